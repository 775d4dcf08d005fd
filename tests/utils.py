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


def tiny_member_config(tiny_coco, tmp_path, config, name, **kw) -> str:
    """A detector config for sweep tests: ``config`` shrunk (ResNet-18/8, 32-wide heads), on the
    tiny data, its backbone loading the stand-in checkpoint ``tmp_path/pretrained.pth`` (written
    by the first member, so all members share it). Returns the path of the dumped config."""
    from mmfrozen.testing import shrink_model, tiny_overrides
    cfg = tiny_overrides(shrink_model(Config.fromfile(config)), tiny_coco,
                         str(tmp_path / 'work'), **kw)
    ckpt = tmp_path / 'pretrained.pth'
    if ckpt.exists():
        cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=str(ckpt),
                                           prefix='backbone.')
    else:
        make_local_pretrained(cfg, str(ckpt))
    path = str(tmp_path / f'{name}.py')
    cfg.dump(path)
    return path


def tiny_sweep_config(members: dict, base: str) -> Config:
    """A sweep config over ``members`` (name: config path or dict(config=..., cfg_options=...)),
    with the runtime of the member config ``base``, as configs/sweeps/ write it."""
    cfg = Config.fromfile(base)
    cfg.model = dict(type='DetectorSweep', members=members)
    cfg.optim_wrapper = dict(type='SweepOptimWrapper', constructor='SweepOptimWrapperConstructor')
    for split in ('val', 'test'):
        if cfg.get(f'{split}_evaluator'):
            cfg[f'{split}_evaluator'] = dict(type='SweepMetric', metric=cfg[f'{split}_evaluator'])
    return cfg
