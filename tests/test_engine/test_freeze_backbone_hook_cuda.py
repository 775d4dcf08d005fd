"""The freeze on a CUDA device: AMP training of frozen and fine-tuned Faster R-CNN, norms in
inference mode after SyncBN conversion, the reduced-precision frozen forward, fingerprints.

Marked ``cuda``: without a GPU each test is skipped with the reason (``tests/conftest.py``);
``tools/gpu_check.sh`` runs them on a GPU machine.
"""
import os.path as osp

import pytest
import torch
from mmdet.registry import MODELS
from torch import nn

import mmfrozen  # noqa: F401
from mmfrozen.freezing import Fingerprint, FreezeSpec, freeze_module
from mmfrozen.freezing.fingerprint import tensor_digest
from mmfrozen.freezing.freeze import keep_inference_hooks
from mmfrozen.freezing.optimizer import optimizer_holds
from mmfrozen.freezing.spec import frozen_parameters
from tests._probe_hook import FreezeProbeHook
from tests.utils import CONFIGS, FROZEN, build_runner, tiny_frozen_cfg

pytestmark = pytest.mark.cuda

FT = osp.join(CONFIGS, 'faster_rcnn', 'faster-rcnn_r50-ft_fpn_1x_coco.py')


def _train_amp(tiny_coco, tmp_path, config):
    """Full-size R50-FPN Faster R-CNN, 3 AMP iterations on 128x128 images."""
    tmp_path.mkdir()
    cfg = tiny_frozen_cfg(tiny_coco, tmp_path, config=config, shrink=False, max_iters=3,
                          val=False, scale=(128, 128))
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.loss_scale = 'dynamic'
    probe = FreezeProbeHook()
    runner = build_runner(cfg, probe)
    runner.train()
    return runner, probe


def test_amp_training_of_frozen_and_finetuned_faster_rcnn(tiny_coco, tmp_path):
    from mmengine.optim import AmpOptimWrapper
    frozen, probe = _train_amp(tiny_coco, tmp_path / 'frozen', FROZEN)
    assert isinstance(frozen.optim_wrapper, AmpOptimWrapper)
    assert next(frozen.model.parameters()).is_cuda
    before, after = probe.snapshots['before_train'], probe.snapshots['after_train']
    pretrained = torch.load(tmp_path / 'frozen' / 'pretrained.pth')['state_dict']
    backbone = [k for k in before if k.startswith('backbone.')]
    assert backbone and all(torch.equal(before[k], after[k]) for k in backbone)
    assert all(torch.equal(before[k].cpu(), pretrained[k]) for k in backbone)
    assert any(not torch.equal(before[k], after[k]) for k in before
               if k.startswith('roi_head.') and before[k].is_floating_point())
    params = frozen_parameters(frozen.model)
    assert len(params) == len(list(frozen.model.backbone.parameters()))
    assert optimizer_holds(frozen.optim_wrapper.optimizer, params) == []
    assert probe.forward_records and not any(
        r['grad_fn'] or r['requires_grad'] or r['any_submodule_training']
        for r in probe.forward_records)
    assert torch.isfinite(torch.tensor(frozen.message_hub.get_scalar('train/loss').current()))

    # the fine-tuned twin: the same steps change its backbone (stages after frozen_stages=1)
    ft, probe = _train_amp(tiny_coco, tmp_path / 'ft', FT)
    before, after = probe.snapshots['before_train'], probe.snapshots['after_train']
    assert any(not torch.equal(before[k], after[k]) for k in before
               if k.startswith('backbone.layer4.') and before[k].is_floating_point())
    assert frozen_parameters(ft.model) == {}


def test_frozen_forward_on_cuda_norms_precision_and_fingerprint():
    from mmengine.model import convert_sync_batchnorm

    def build():
        model = nn.Module()
        model.backbone = MODELS.build(dict(type='ResNet', depth=18, base_channels=8,
                                           frozen_stages=-1, norm_eval=False))
        return model

    ref, model = build(), build()
    model.load_state_dict(ref.state_dict())
    freeze_module(ref, FreezeSpec('backbone'))
    freeze_module(model, FreezeSpec('backbone', precision='bf16', channels_last=True))
    ref, model = ref.cuda(), model.cuda()
    fingerprint = Fingerprint.of(ref, 'backbone')
    # SyncBN swapped in as DDP wrapping does: in training mode it would need a process group
    ref = convert_sync_batchnorm(ref)
    keep_inference_hooks(ref)
    ref.train()
    model.train()
    x = torch.randn(2, 3, 64, 64, device='cuda')
    outs, ref_outs = model.backbone(x), ref.backbone(x)
    assert all(o.dtype == torch.float32 and o.grad_fn is None for o in outs)
    for o, r in zip(outs, ref_outs):
        assert (o - r).abs().max() <= 0.1 * r.abs().max() + 1e-6
    assert not any(m.training for m in ref.backbone.modules())
    fingerprint.check(ref, 'after CUDA forwards')  # statistics untouched
    weight = ref.backbone.conv1.weight
    assert tensor_digest(weight) == tensor_digest(weight.cpu())
