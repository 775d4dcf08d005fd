"""Shared helpers of the tests."""
import os.path as osp

from mmengine.config import Config

from mmfrozen.engine.launch import build_runner as _build_runner
from mmfrozen.testing import make_local_pretrained, shrink_model, tiny_overrides

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(REPO, 'configs')
FROZEN = osp.join(CONFIGS, 'faster_rcnn', 'faster-rcnn_r50-frozen_fpn_1x_coco.py')


def tiny_frozen_cfg(tiny_coco, tmp_path, config=FROZEN, shrink=True, **kw) -> Config:
    """A real config (shrunk to ResNet-18/8 and 32-wide heads by default) on the tiny data,
    with a local stand-in for the ImageNet checkpoint at ``tmp_path/pretrained.pth``."""
    cfg = Config.fromfile(config)
    if shrink:
        cfg = shrink_model(cfg)
    cfg = tiny_overrides(cfg, tiny_coco, str(tmp_path / 'work'), **kw)
    make_local_pretrained(cfg, str(tmp_path / 'pretrained.pth'))
    return cfg


def build_runner(cfg, probe=None):
    """Build the runner the way tools/train.py does (runner_type honoured)."""
    runner = _build_runner(cfg)
    if probe is not None:
        runner.register_hook(probe)
    return runner
