"""The README's drop-in recipe on stock mmdet configs, checked by training iterations."""
import pytest
import torch
from mmengine.config import Config

from mmfrozen.freezing.optimizer import optimizer_holds
from mmfrozen.freezing.spec import frozen_parameters
from mmfrozen.testing import make_local_pretrained, tiny_overrides
from mmfrozen.testing.smoke import amp_as_plain_without_cuda
from tests._probe_hook import FreezeProbeHook
from tests.utils import build_runner

DROP_IN = """
custom_imports = dict(imports={imports}, allow_failed_imports=False)
runner_type = 'FrozenRunner'
custom_hooks = [dict(type='FreezeBackboneHook')]
"""

STOCK = {
    'faster-rcnn-r50': ('mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py', ['mmfrozen']),
    'retinanet-r50': ('mmdet::retinanet/retinanet_r50_fpn_1x_coco.py', ['mmfrozen']),
    'mask-rcnn-swin-t': ('mmdet::swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py', ['mmfrozen']),
    # the ConvNeXt config already imports mmpretrain.models: the README says to extend the list
    'mask-rcnn-convnext-t': ('mmdet::convnext/mask-rcnn_convnext-t-p4-w7_fpn_amp-ms-crop-3x_coco.py',
                             ['mmpretrain.models', 'mmfrozen']),
}


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(STOCK))
def test_drop_in_freezes_stock_config(name, tiny_coco, tmp_path):
    base, imports = STOCK[name]
    path = tmp_path / 'drop_in.py'
    path.write_text(f"_base_ = '{base}'\n" + DROP_IN.format(imports=imports))
    cfg = Config.fromfile(str(path))
    # mmengine's AMP wrapper needs a GPU; the CPU test trains in fp32
    cfg.optim_wrapper = amp_as_plain_without_cuda(cfg.optim_wrapper)
    cfg = tiny_overrides(cfg, tiny_coco, str(tmp_path / 'work'), max_iters=2, val=False,
                         scale=(96, 96))
    if cfg.model.backbone.get('convert_weights'):
        # the stand-in checkpoint is written in mmdet's key format, not the official Swin one
        cfg.model.backbone.convert_weights = False
    make_local_pretrained(cfg, str(tmp_path / 'pretrained.pth'))
    probe = FreezeProbeHook()
    runner = build_runner(cfg, probe)
    runner.train()

    before, after = probe.snapshots['before_train'], probe.snapshots['after_train']
    backbone = [k for k in before if k.startswith('backbone.')]
    assert backbone and all(torch.equal(before[k], after[k]) for k in backbone)
    assert any(not torch.equal(before[k], after[k]) for k in before
               if k.startswith('neck.') and before[k].is_floating_point())
    assert not any(r['grad_fn'] or r['any_submodule_training'] for r in probe.forward_records)
    frozen = frozen_parameters(runner.model)
    assert len(frozen) == len(list(runner.model.backbone.parameters()))
    assert optimizer_holds(runner.optim_wrapper.optimizer, frozen) == []

