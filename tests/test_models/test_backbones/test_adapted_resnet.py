"""AdaptedResNet/AdaptedResNeXt in a real frozen-backbone training run on tiny COCO data."""
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.registry import RUNNERS

import mmfrozen  # noqa: F401
from mmfrozen.freezing import Fingerprint
from mmfrozen.freezing.optimizer import optimizer_holds
from mmfrozen.freezing.spec import frozen_parameters
from mmfrozen.models import AdaptedResNet, AdaptedResNeXt, ResidualAdapter
from mmfrozen.testing import tiny_overrides
from tests._probe_hook import FreezeProbeHook

from ...conftest import CONFIGS

ADAPTERS = osp.join(CONFIGS, 'faster_rcnn', 'faster-rcnn_r50-frozen-adapters_fpn_1x_coco.py')


def tiny_adapter_cfg(tiny_coco, tmp_path, max_iters=3):
    """The real frozen-adapters config at ResNet-18/8 channels, plain ResNet weights saved."""
    cfg = tiny_overrides(Config.fromfile(ADAPTERS), tiny_coco, str(tmp_path / 'work'),
                         max_iters=max_iters, val=False)
    cfg.model.backbone.update(depth=18, base_channels=8)
    cfg.model.neck.update(in_channels=[8, 16, 32, 64], out_channels=16)
    cfg.model.rpn_head.update(in_channels=16, feat_channels=16)
    cfg.model.roi_head.bbox_roi_extractor.out_channels = 16
    cfg.model.roi_head.bbox_head.update(in_channels=16, fc_out_channels=32)
    # the "ImageNet checkpoint": a plain ResNet without adapters (like torchvision://resnet50)
    plain_cfg = {k: v for k, v in cfg.model.backbone.items()
                 if k not in ('adapter_cfg', 'init_cfg')}
    from mmdet.registry import MODELS
    plain = MODELS.build(dict(plain_cfg, type='ResNet'))
    plain.init_weights()
    torch.save({'state_dict': plain.state_dict()}, tmp_path / 'plain_resnet.pth')
    cfg.model.backbone.init_cfg = dict(type='Pretrained',
                                       checkpoint=str(tmp_path / 'plain_resnet.pth'))
    return cfg, plain


def test_frozen_adapters_train_only_adapters(tiny_coco, tmp_path):
    cfg, plain = tiny_adapter_cfg(tiny_coco, tmp_path)
    probe = FreezeProbeHook()
    runner = RUNNERS.build(cfg)
    runner.register_hook(probe)
    runner.train()
    model = runner.model
    assert isinstance(model.backbone, AdaptedResNet) and model.backbone.num_adapters == 8

    before, after = probe.snapshots['before_train'], probe.snapshots['after_train']
    backbone_keys = [k for k in before if k.startswith('backbone.')]
    changed = [k for k in backbone_keys if not torch.equal(before[k], after[k])]
    # inside the backbone only adapter weights changed (every adapter's output conv moved)
    assert changed and all('.adapter.' in k for k in changed)
    assert all(any(k.startswith(f'backbone.{layer}.{i}.adapter.up.') for k in changed)
               for layer in ('layer1', 'layer2', 'layer3', 'layer4') for i in range(2))
    # the frozen weights equal the plain checkpoint (it loaded despite the extra adapter keys)
    ckpt = torch.load(tmp_path / 'plain_resnet.pth')['state_dict']
    for k, v in ckpt.items():
        assert torch.equal(after['backbone.' + k], v), k

    # adapters are optimized; frozen weights are not; the fingerprint covers frozen weights only
    frozen = frozen_parameters(model)
    assert frozen and not any('adapter' in n for n in frozen)
    optimizer = runner.optim_wrapper.optimizer
    assert optimizer_holds(optimizer, frozen) == []
    adapter_params = {n: p for n, p in model.named_parameters() if '.adapter.' in n}
    assert len(optimizer_holds(optimizer, adapter_params)) == len(adapter_params)
    fp = Fingerprint.of(model, 'backbone')
    assert set(fp.digests) == {k[len('backbone.'):] for k in backbone_keys if '.adapter.' not in k}


def test_step0_adapted_backbone_equals_plain(tiny_coco, tmp_path):
    cfg, plain = tiny_adapter_cfg(tiny_coco, tmp_path)
    runner = RUNNERS.build(cfg)
    runner.model.init_weights()  # what train() does before the first step
    backbone = runner.model.backbone
    x = torch.randn(2, 3, 64, 64)
    plain.eval()
    backbone.train()  # frozen parts still run in inference mode (FreezeBackboneHook)
    with torch.no_grad():
        for a, b in zip(plain(x), backbone(x)):
            assert torch.equal(a, b)
    ups = [a.up.weight for a in backbone.adapters()]
    assert ups and all(torch.count_nonzero(w) == 0 for w in ups)


def test_adapted_resnext_keeps_adapters_trainable_through_train_mode():
    backbone = AdaptedResNeXt(depth=50, groups=2, base_width=4, base_channels=8,
                              frozen_stages=4, norm_eval=True,
                              adapter_cfg=dict(reduction=4, norm_cfg=dict(type='BN')))
    backbone.train()  # ResNet freezes stages 1-4 and puts every BN in eval here
    adapters = list(backbone.adapters())
    assert len(adapters) == 3 + 4 + 6 + 3
    assert all(isinstance(a, ResidualAdapter) and a.training for a in adapters)
    assert all(p.requires_grad for a in adapters for p in a.parameters())
    assert not any(p.requires_grad for n, p in backbone.named_parameters()
                   if '.adapter.' not in n)
    out = backbone(torch.randn(2, 3, 64, 64))
    sum(o.sum() for o in out).backward()
    assert all(a.up.weight.grad is not None for a in adapters)
