"""EMA with a frozen backbone: the averaged model shares the frozen tensors (real tiny Runners).

Each sharing run is compared with the same run without the sharing (the hook FrozenRunner adds
removed), which is what mmengine's EMAHook does on its own.
"""
import copy
import logging
import subprocess
import sys
from unittest import mock

import pytest
import torch
from mmengine.hooks import EMAHook, Hook
from mmengine.runner import Runner

import mmfrozen  # noqa: F401
from mmfrozen.engine.hooks import ShareFrozenWithEMAHook
from mmfrozen.freezing import FrozenModuleChanged, share_frozen_tensors
from mmfrozen.freezing.spec import frozen_state
from tests.utils import CONFIGS, REPO, build_runner, tiny_frozen_cfg

FT = f'{CONFIGS}/faster_rcnn/faster-rcnn_r50-ft_fpn_1x_coco.py'


def ema_cfg(tiny_coco, tmp_path, max_iters=2, checkpoint_interval=2, **ema):
    cfg = tiny_frozen_cfg(tiny_coco, tmp_path, max_iters=max_iters,
                          checkpoint_interval=checkpoint_interval)
    cfg.custom_hooks.append(dict(type='EMAHook', **ema))
    return cfg


def run(cfg, work_dir, share=True, hooks=()):
    """Train ``cfg`` in ``work_dir``; without ``share``, as mmengine's EMAHook alone does."""
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = str(work_dir)
    runner = build_runner(cfg)
    added = [h for h in runner.hooks if isinstance(h, ShareFrozenWithEMAHook)]
    assert len(added) == 1
    if not share:
        runner._hooks.remove(added[0])
    for hook in hooks:
        runner.register_hook(hook)
    runner.train()
    return runner


def ema_hook(runner) -> EMAHook:
    return next(h for h in runner.hooks if isinstance(h, EMAHook))


def assert_bitwise_equal(a: dict, b: dict) -> None:
    assert sorted(a) == sorted(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]), k


def load(path):
    return torch.load(path, weights_only=False)


@pytest.mark.parametrize('ema', [
    dict(),  # mmengine's ExponentialMovingAverage: parameters averaged, buffers copied
    dict(ema_type='ExpMomentumEMA', momentum=0.0002, update_buffers=True),  # mmdet's YOLOX/RTMDet
    dict(ema_type='StochasticWeightAverage'),
])
def test_ema_model_shares_frozen_tensors_and_checkpoints_as_before(tiny_coco, tmp_path, ema):
    """Validation (swap in and out) and a checkpoint save (swap of the state dicts) run at
    iteration 2; the checkpoint is bitwise the one written without the sharing."""
    cfg = ema_cfg(tiny_coco, tmp_path, **ema)
    runner = run(cfg, tmp_path / 'shared')
    model, ema_model = runner.model, ema_hook(runner).ema_model
    frozen = frozen_state(model)
    theirs = ema_model.module.state_dict(keep_vars=True)
    assert len(frozen) > 100
    for name, tensor in frozen.items():
        assert theirs[name] is tensor and theirs[name].data_ptr() == tensor.data_ptr(), name
    assert not set(frozen) & set(ema_model.avg_parameters)
    assert set(ema_model.avg_parameters)  # the trainable rest is still averaged
    log = open(next((tmp_path / 'shared').glob('*/*.log'))).read()
    assert log.count(f'shares {len(frozen)} frozen tensors') == 1
    # the swaps around validation and the checkpoint left the frozen tensors as loaded
    pretrained = load(tmp_path / 'pretrained.pth')['state_dict']
    for name, tensor in frozen.items():
        assert torch.equal(tensor, pretrained[name]), name

    run(cfg, tmp_path / 'stock', share=False)
    shared = load(tmp_path / 'shared' / 'iter_2.pth')
    stock = load(tmp_path / 'stock' / 'iter_2.pth')
    assert_bitwise_equal(shared['ema_state_dict'], stock['ema_state_dict'])
    assert_bitwise_equal(shared['state_dict'], stock['state_dict'])


def test_resume_loads_the_ema_state_as_without_sharing(tiny_coco, tmp_path):
    cfg = ema_cfg(tiny_coco, tmp_path, max_iters=1, checkpoint_interval=1,
                  ema_type='ExpMomentumEMA', update_buffers=True)
    run(cfg, tmp_path / 'first')
    cfg.train_cfg.max_iters = cfg.train_cfg.val_interval = 2
    cfg.resume, cfg.load_from = True, str(tmp_path / 'first' / 'iter_1.pth')
    runner = run(cfg, tmp_path / 'shared')
    frozen, ema_model = frozen_state(runner.model), ema_hook(runner).ema_model
    theirs = ema_model.module.state_dict(keep_vars=True)
    assert all(theirs[n] is t for n, t in frozen.items())
    run(cfg, tmp_path / 'stock', share=False)
    shared = load(tmp_path / 'shared' / 'iter_2.pth')
    stock = load(tmp_path / 'stock' / 'iter_2.pth')
    assert_bitwise_equal(shared['ema_state_dict'], stock['ema_state_dict'])
    assert_bitwise_equal(shared['state_dict'], stock['state_dict'])


class WriteIntoEMABackbone(Hook):
    """Adds 1 to the EMA model's copy of a frozen weight after the first iteration."""
    priority = 'LOWEST'

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter == 0:
            ema_hook(runner).ema_model.module.backbone.conv1.weight.data.add_(1)


def test_a_change_written_into_the_ema_frozen_tensors_is_caught(tiny_coco, tmp_path):
    """Without the sharing the EMA's own copy changes unseen, and the next checkpoint saves it
    as the frozen backbone of its state_dict."""
    cfg = ema_cfg(tiny_coco, tmp_path)
    cfg.custom_hooks[0].check_interval = 1
    with pytest.raises(FrozenModuleChanged,
                       match=r"'backbone\.conv1\.weight' changed \(at iteration 2\)"):
        run(cfg, tmp_path / 'work', hooks=[WriteIntoEMABackbone()])


_STOCK_LOAD = """
import sys, torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import _load_checkpoint_to_model
from mmdet.registry import MODELS
cfg = Config.fromfile(sys.argv[1])
init_default_scope('mmdet')
model = MODELS.build(cfg.model)
# what Runner.load_checkpoint does (torch >= 2.6 needs weights_only=False for a Runner's file)
ckpt = torch.load(sys.argv[2], map_location='cpu', weights_only=False)
_load_checkpoint_to_model(model, ckpt, strict=True)
assert 'mmfrozen' not in sys.modules
state = model.state_dict()
for k, v in ckpt['state_dict'].items():
    assert torch.equal(state[k], v), k
print('loaded', len(ckpt['state_dict']))
"""


def test_exp_momentum_checkpoint_holds_the_pretrained_backbone_and_loads(tiny_coco, tmp_path):
    """mmdet's ExpMomentumEMA computes ``a * (1 - m) + a * m``, which rounds away from ``a``: an
    averaged copy of a frozen tensor drifts, and the checkpoint's state_dict (the EMA weights,
    what a deployment loads) then holds a backbone that is not the frozen one, which mmfrozen's
    guard refuses to load as edited. Shared, the frozen tensors are exactly the pretrained ones;
    a run loads the checkpoint with its guard passing, and stock mmdet loads it."""
    cfg = ema_cfg(tiny_coco, tmp_path, ema_type='ExpMomentumEMA', momentum=0.0002, gamma=1)
    run(cfg, tmp_path / 'work')
    path = tmp_path / 'work' / 'iter_2.pth'
    state = load(path)['state_dict']
    for name, tensor in load(tmp_path / 'pretrained.pth')['state_dict'].items():
        assert torch.equal(state[name], tensor), name

    # fine-tuning from it: the guard compares the loaded backbone with the checkpoint's
    # fingerprint (without the sharing: FrozenModuleChanged, "changed after it was written")
    next_cfg = copy.deepcopy(cfg)
    next_cfg.load_from = str(path)
    next_cfg.train_cfg.max_iters = next_cfg.train_cfg.val_interval = 1
    assert run(next_cfg, tmp_path / 'next').iter == 1
    # testing it: the EMA model of a test run shares too, its swaps leave the backbone as loaded
    test_cfg = copy.deepcopy(cfg)
    test_cfg.load_from, test_cfg.work_dir = str(path), str(tmp_path / 'test')
    tester = build_runner(test_cfg)
    assert 'coco/bbox_mAP' in tester.test()
    theirs = ema_hook(tester).ema_model.module.state_dict(keep_vars=True)
    for name, tensor in frozen_state(tester.model).items():
        assert theirs[name] is tensor and torch.equal(tensor, state[name]), name

    stock_cfg = copy.deepcopy(cfg)
    stock_cfg.model.backbone.init_cfg = None
    stock_cfg.pop('custom_imports', None)
    stock_cfg.dump(str(tmp_path / 'stock.py'))
    out = subprocess.run([sys.executable, '-c', _STOCK_LOAD, str(tmp_path / 'stock.py'),
                          str(path)], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0 and 'loaded' in out.stdout, out.stderr[-3000:]


def test_without_a_freeze_nothing_is_shared(tiny_coco, tmp_path):
    """A plain Runner: mmengine's EMAHook alone. FrozenRunner without a freeze hook (a config
    that inherits a frozen one and sets custom_hooks = [EMAHook], replacing the base's list)
    is refused before anything is built: it would fine-tune the whole model."""
    cfg = tiny_frozen_cfg(tiny_coco, tmp_path, config=FT, max_iters=1, val=False)
    cfg.runner_type = 'Runner'
    cfg.work_dir = str(tmp_path / 'Runner')
    cfg.custom_hooks = [dict(type='EMAHook')]
    runner = build_runner(cfg)
    assert type(runner) is Runner
    assert not any(isinstance(h, ShareFrozenWithEMAHook) for h in runner.hooks)
    runner.call_hook('before_run')
    ema_model = ema_hook(runner).ema_model
    assert len(ema_model.avg_parameters) == len(list(runner.model.parameters()))
    assert all(a.data_ptr() != b.data_ptr()
               for a, b in zip(ema_model.module.parameters(), runner.model.parameters()))
    cfg.runner_type = 'FrozenRunner'
    with pytest.raises(ValueError, match=r"custom_hooks holds no freeze hook \(custom_hooks: "
                                         r"\['EMAHook'\]\).*FreezeBackboneHook"):
        build_runner(cfg)


def test_a_frozen_config_inherited_with_an_ema_of_its_own_is_refused(tiny_coco, tmp_path):
    """The user's config: ``_base_`` = a frozen config, plus
    ``custom_hooks = [dict(type='EMAHook')]`` as mmdet's YOLOX/RTMDet configs write it. mmengine
    replaces the list: the freeze hook is gone. Refused, naming the fix; with the freeze hook
    listed beside the EMA, it trains with the backbone frozen and shared with the EMA."""
    from mmengine.config import Config
    base = tiny_frozen_cfg(tiny_coco, tmp_path, max_iters=1, val=False)
    base.dump(str(tmp_path / 'faster-rcnn_r18-frozen_fpn_1x_coco.py'))
    user = tmp_path / 'my_frozen_ema.py'
    user.write_text("_base_ = './faster-rcnn_r18-frozen_fpn_1x_coco.py'\n"
                    "custom_hooks = [dict(type='EMAHook', momentum=0.0002, priority=49)]\n")
    cfg = Config.fromfile(str(user))
    assert cfg.runner_type == 'FrozenRunner'
    with pytest.raises(ValueError, match='list it in yours'):
        build_runner(cfg)
    user.write_text("_base_ = './faster-rcnn_r18-frozen_fpn_1x_coco.py'\n"
                    "custom_hooks = [dict(type='FreezeBackboneHook'),\n"
                    "                dict(type='EMAHook', momentum=0.0002, priority=49)]\n")
    runner = build_runner(Config.fromfile(str(user)))
    runner.train()
    assert not any(p.requires_grad for p in runner.model.backbone.parameters())


def test_share_frozen_tensors_keeps_a_copy_that_differs(tiny_coco, tmp_path):
    """A copy whose frozen tensor differs (another dtype, device or value) keeps its own."""
    cfg = tiny_frozen_cfg(tiny_coco, tmp_path, max_iters=1, val=False)
    model = build_runner(cfg).model
    other = copy.deepcopy(model)
    other.backbone.conv1.weight.data[0, 0, 0, 0] += 1
    other.backbone.bn1._buffers['running_mean'] = other.backbone.bn1.running_mean.double()
    shared, kept = share_frozen_tensors(model, other)
    assert kept == ['backbone.conv1.weight', 'backbone.bn1.running_mean']
    assert other.backbone.conv1.weight is not model.backbone.conv1.weight
    assert other.backbone.layer1[0].conv1.weight is model.backbone.layer1[0].conv1.weight
    assert len(shared) == len(frozen_state(model)) - 2


def test_an_ema_model_that_is_not_an_averaged_model_keeps_its_copy_and_says_so(
        tiny_coco, tmp_path):
    from mmfrozen.engine.hooks.share_frozen_with_ema_hook import share_frozen_with_ema
    cfg = tiny_frozen_cfg(tiny_coco, tmp_path, max_iters=1, val=False)
    model = build_runner(cfg).model
    hook = ShareFrozenWithEMAHook()
    runner = type('R', (), dict(model=model, hooks=[EMAHook()]))()
    runner.hooks[0].ema_model = copy.deepcopy(model)  # an nn.Module, not a BaseAveragedModel
    with mock.patch('mmfrozen.engine.hooks.share_frozen_with_ema_hook.print_log') as log:
        hook.before_run(runner)
    (message, ), kwargs = log.call_args
    assert 'is a FasterRCNN, not an mmengine BaseAveragedModel' in message
    assert log.call_count == 1 and kwargs['level'] == logging.WARNING
    with pytest.raises(TypeError, match='Derive the ema_type of the EMAHook from'):
        share_frozen_with_ema(runner.hooks[0].ema_model, model)
