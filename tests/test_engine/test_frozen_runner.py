"""FrozenRunner: what it refuses when it builds the optimizer or resumes, with real Runners."""
import os.path as osp

import pytest
import torch
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS

import mmfrozen  # noqa: F401
from tests.utils import CONFIGS, build_runner, tiny_frozen_cfg

FT = osp.join(CONFIGS, 'faster_rcnn', 'faster-rcnn_r50-ft_fpn_1x_coco.py')


def test_resuming_another_runs_optimizer_state_says_to_use_load_from(tiny_coco, tmp_path):
    """A run written by stock mmdet resumed with a freeze (any spec): its optimizer state holds
    the frozen parameters too, and torch's size error would not say why."""
    (tmp_path / 'stock').mkdir()
    stock = tiny_frozen_cfg(tiny_coco, tmp_path / 'stock', config=FT, val=False, max_iters=1)
    build_runner(stock).train()
    cfg = tiny_frozen_cfg(tiny_coco, tmp_path, val=False, max_iters=2)
    cfg.resume, cfg.load_from = True, str(tmp_path / 'stock' / 'work' / 'iter_1.pth')
    for hook in (dict(type='FreezeBackboneHook'),
                 dict(type='FreezeBackboneHook', trainable=['layer4'])):
        cfg.custom_hooks = [hook]
        with pytest.raises(ValueError, match=r'(?s)cannot resume .*iter_1\.pth.*built the '
                                             r'optimizer without its \d+ frozen parameters.*'
                                             r'load_from=.*resume=False'):
            build_runner(cfg).train()


def test_resuming_after_the_optimizer_settings_changed_is_refused(tiny_coco, tmp_path):
    """A frozen run trained 1 iteration; the user edits its learning rate (or weight decay)
    and resumes: mmengine would go on with the checkpoint's values (the optimizer state
    replaces them) without a word. Refused, naming the setting; the unchanged config resumes."""
    cfg = tiny_frozen_cfg(tiny_coco, tmp_path, val=False, max_iters=1)
    build_runner(cfg).train()
    lr = cfg.optim_wrapper.optimizer.lr
    for key, value in (('lr', lr * 2.5), ('weight_decay', 0.05)):
        changed = tiny_frozen_cfg(tiny_coco, tmp_path, val=False, max_iters=2)
        changed.optim_wrapper.optimizer[key] = value
        changed.resume = True
        shown = 'initial_lr' if key == 'lr' else key
        with pytest.raises(ValueError, match=rf'(?s)cannot resume .*iter_1\.pth: the optimizer '
                                             rf'has {shown}=.* in this run.*load_from='):
            build_runner(changed).train()
    same = tiny_frozen_cfg(tiny_coco, tmp_path, val=False, max_iters=2)
    same.resume = True
    runner = build_runner(same)
    runner.train()
    assert runner.iter == 2
    assert {g['initial_lr'] for g in runner.optim_wrapper.optimizer.param_groups} == {lr}


@OPTIM_WRAPPER_CONSTRUCTORS.register_module(force=True)
class BackboneAndRestOptimizers:
    """Two optimizers, one for the backbone and one for the rest (a GAN-style set-up)."""

    def __init__(self, optim_wrapper_cfg, paramwise_cfg=None):
        self.names = list(optim_wrapper_cfg)

    def __call__(self, model):
        parts = {'backbone': list(model.backbone.parameters()),
                 'rest': [p for n, p in model.named_parameters()
                          if not n.startswith('backbone.')]}
        return OptimWrapperDict(**{
            name: OptimWrapper(torch.optim.SGD(parts[name], lr=0.01)) for name in self.names})


def test_optimizer_left_empty_by_the_freeze_is_refused_at_build(tiny_coco, tmp_path):
    cfg = tiny_frozen_cfg(tiny_coco, tmp_path, val=False, max_iters=1)
    cfg.optim_wrapper = dict(constructor='BackboneAndRestOptimizers', backbone=dict(),
                             rest=dict())
    with pytest.raises(ValueError, match=r"optimizer 'backbone' of the OptimWrapperDict \(SGD\) "
                                         r"held only parameters of the frozen module\(s\) "
                                         r"\['backbone'\]"):
        build_runner(cfg).train()
