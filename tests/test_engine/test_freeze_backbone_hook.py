"""FreezeBackboneHook + FrozenRunner, each promise checked by a real Runner training steps."""
import copy
import glob
import os.path as osp

import pytest
import torch

import mmfrozen  # noqa: F401
from mmfrozen.engine.pretrained import RandomInitFrozenError
from mmfrozen.freezing import FrozenModuleChanged, frozen_parameters, optimizer_holds
from tests._probe_hook import FreezeProbeHook
from tests.utils import build_runner as build
from tests.utils import tiny_frozen_cfg as make_cfg


def sub_state(state, prefix):
    return {k: v for k, v in state.items() if k.startswith(prefix)}


def test_frozen_training_keeps_backbone_and_trains_the_rest(tiny_coco, tmp_path):
    cfg = make_cfg(tiny_coco, tmp_path)
    probe = FreezeProbeHook()
    runner = build(cfg, probe)
    runner.train()
    before, after = probe.snapshots['before_train'], probe.snapshots['after_train']

    # weights, BN statistics and counters bitwise equal, and equal to the pretrained file
    pretrained = torch.load(tmp_path / 'pretrained.pth')['state_dict']
    for k, v in sub_state(before, 'backbone.').items():
        assert torch.equal(v, after[k]), k
        assert torch.equal(v, pretrained[k]), k
    assert any('running_mean' in k for k in sub_state(before, 'backbone.'))
    # neck and heads trained
    for prefix in ('neck.', 'rpn_head.', 'roi_head.'):
        assert any(not torch.equal(v, after[k]) for k, v in sub_state(before, prefix).items()
                   if v.is_floating_point()), prefix
    # not in the optimizer: neither in a param group nor in its state (no momentum buffers)
    model = runner.model
    frozen = frozen_parameters(model)
    assert len(frozen) == len(list(model.backbone.parameters()))
    optimizer = runner.optim_wrapper.optimizer
    assert optimizer_holds(optimizer, frozen) == []
    assert len(optimizer.state) == sum(p.requires_grad for p in model.parameters())
    # during training: model in train mode, every backbone sub-module in eval, no graph
    assert probe.forward_records and all(r['model_training'] for r in probe.forward_records)
    assert not any(r['any_submodule_training'] for r in probe.forward_records)
    assert not any(r['grad_fn'] or r['requires_grad'] for r in probe.forward_records)
    # the checkpoint records the fingerprint; real COCO evaluation ran
    ckpt = torch.load(glob.glob(str(tmp_path / 'work' / 'epoch_1.pth'))[0], weights_only=False)
    assert 'backbone' in ckpt['meta']['mmfrozen_fingerprints']
    scalars = open(glob.glob(str(tmp_path / 'work' / '*' / 'vis_data' / 'scalars.json'))[0]).read()
    assert '"coco/bbox_mAP"' in scalars


def test_resume_continues_with_guard_passing(tiny_coco, tmp_path):
    cfg = make_cfg(tiny_coco, tmp_path, max_epochs=1, val=False)
    build(cfg).train()
    first = torch.load(tmp_path / 'work' / 'epoch_1.pth', weights_only=False)

    cfg2 = copy.deepcopy(cfg)
    cfg2.train_cfg.max_epochs = 2
    cfg2.resume = True
    probe = FreezeProbeHook()
    runner = build(cfg2, probe)
    runner.train()
    assert runner.epoch == 2 and osp.exists(tmp_path / 'work' / 'epoch_2.pth')
    second = torch.load(tmp_path / 'work' / 'epoch_2.pth', weights_only=False)
    for k, v in sub_state(first['state_dict'], 'backbone.').items():
        assert torch.equal(v, second['state_dict'][k]), k
    assert any(not torch.equal(v, second['state_dict'][k])
               for k, v in sub_state(first['state_dict'], 'neck.').items())


def test_guard_catches_mutated_frozen_weight(tiny_coco, tmp_path):
    cfg = make_cfg(tiny_coco, tmp_path, val=False)
    cfg.custom_hooks = [dict(type='FreezeBackboneHook', check_interval=1)]
    runner = build(cfg, FreezeProbeHook(mutate_at_iter=2))
    with pytest.raises(FrozenModuleChanged, match=r"'backbone\.conv1\.weight' changed \(at iter"):
        runner.train()
    assert not osp.exists(tmp_path / 'work' / 'epoch_1.pth')


def test_guard_runs_before_checkpoint_save(tiny_coco, tmp_path):
    cfg = make_cfg(tiny_coco, tmp_path, max_iters=2, val=False, checkpoint_interval=2)
    runner = build(cfg, FreezeProbeHook(mutate_at_iter=1))
    with pytest.raises(FrozenModuleChanged, match='before saving a checkpoint'):
        runner.train()
    assert not glob.glob(str(tmp_path / 'work' / '*.pth'))


def test_refuses_random_init(tiny_coco, tmp_path):
    cfg = make_cfg(tiny_coco, tmp_path, val=False)
    cfg.model.backbone.init_cfg = None
    with pytest.raises(RandomInitFrozenError, match="refusing to freeze 'backbone'"):
        build(cfg)
    cfg.custom_hooks = [dict(type='FreezeBackboneHook', allow_random_init=True)]
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=1)
    build(cfg).train()


def test_refuses_checkpoint_that_does_not_load(tiny_coco, tmp_path):
    cfg = make_cfg(tiny_coco, tmp_path, val=False)
    bad = tmp_path / 'wrong_keys.pth'
    torch.save({'state_dict': {'other.' + k: v for k, v in torch.load(
        tmp_path / 'pretrained.pth')['state_dict'].items()}}, bad)
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=str(bad))
    with pytest.raises(RandomInitFrozenError, match='do not hold the pretrained checkpoint'):
        build(cfg).train()


def test_unknown_module_path(tiny_coco, tmp_path):
    cfg = make_cfg(tiny_coco, tmp_path, val=False)
    cfg.custom_hooks = [dict(type='FreezeBackboneHook', module='bakbone')]
    with pytest.raises(KeyError, match="no sub-module 'bakbone'"):
        build(cfg)


def test_lr_mult_zero_warns(tiny_coco, tmp_path):
    cfg = make_cfg(tiny_coco, tmp_path, val=False, max_iters=1)
    cfg.optim_wrapper.paramwise_cfg = dict(custom_keys={'backbone': dict(lr_mult=0.0),
                                                        'neck': dict(lr_mult=0.0)})
    runner = build(cfg)
    runner.train()
    log = open(glob.glob(str(tmp_path / 'work' / '*' / '*.log'))[0]).read()
    assert "custom_keys['backbone'] sets lr_mult=0 on" in log and 'redundant' in log
    assert "custom_keys['neck'] sets lr_mult=0, which is not freezing" in log
    assert optimizer_holds(runner.optim_wrapper.optimizer, frozen_parameters(runner.model)) == []


def test_hook_without_frozen_runner_is_an_error(tiny_coco, tmp_path):
    cfg = make_cfg(tiny_coco, tmp_path, val=False)
    cfg.pop('runner_type')
    with pytest.raises(RuntimeError, match="runner_type = 'FrozenRunner'"):
        build(cfg).train()


def test_reduced_precision_frozen_backbone_trains(tiny_coco, tmp_path):
    cfg = make_cfg(tiny_coco, tmp_path, val=False, max_iters=2)
    cfg.custom_hooks = [dict(type='FreezeBackboneHook', precision='bf16', channels_last=True)]
    probe = FreezeProbeHook()
    runner = build(cfg, probe)
    runner.train()
    before, after = probe.snapshots['before_train'], probe.snapshots['after_train']
    assert all(torch.equal(v, after[k]) for k, v in sub_state(before, 'backbone.').items())
    assert not any(r['grad_fn'] for r in probe.forward_records)


def test_load_from_and_test_with_runner_checkpoint(tiny_coco, tmp_path):
    """torch>=2.6 + mmengine: a Runner checkpoint loads through load_from (mmfrozen's fix)."""
    cfg = make_cfg(tiny_coco, tmp_path, val=False)
    build(cfg).train()
    ckpt = str(tmp_path / 'work' / 'epoch_1.pth')
    test_cfg = copy.deepcopy(cfg)
    test_cfg.load_from = ckpt
    test_cfg.work_dir = str(tmp_path / 'test')
    metrics = build(test_cfg).test()
    assert 'coco/bbox_mAP' in metrics and 0.0 <= metrics['coco/bbox_mAP'] <= 1.0


def test_resume_without_a_checkpoint_is_not_pretrained(tiny_coco, tmp_path):
    """`--resume` on a first run finds nothing to resume: the backbone would stay random."""
    cfg = make_cfg(tiny_coco, tmp_path, val=False, max_iters=1)
    cfg.model.backbone.init_cfg = None
    cfg.resume = True
    with pytest.raises(RandomInitFrozenError, match='none was loaded'):
        build(cfg).train()


def test_load_from_must_hold_the_frozen_module(tiny_coco, tmp_path):
    cfg = make_cfg(tiny_coco, tmp_path, val=False)
    build(cfg).train()
    ckpt = torch.load(tmp_path / 'work' / 'epoch_1.pth', weights_only=False)
    # a checkpoint of the whole detector provides the frozen backbone: fine without init_cfg
    cfg2 = copy.deepcopy(cfg)
    cfg2.model.backbone.init_cfg = None
    cfg2.load_from = str(tmp_path / 'work' / 'epoch_1.pth')
    cfg2.work_dir = str(tmp_path / 'work2')
    probe = FreezeProbeHook()
    build(cfg2, probe).train()
    assert all(torch.equal(v, probe.snapshots['before_train'][k])
               for k, v in ckpt['state_dict'].items() if k.startswith('backbone.'))
    # a checkpoint without the backbone leaves it random (mmengine only warns): refused
    ckpt['state_dict'] = {k: v for k, v in ckpt['state_dict'].items()
                          if not k.startswith('backbone.')}
    torch.save(ckpt, tmp_path / 'heads_only.pth')
    cfg2.load_from = str(tmp_path / 'heads_only.pth')
    cfg2.work_dir = str(tmp_path / 'work3')
    with pytest.raises(RandomInitFrozenError, match='were loaded neither from a checkpoint'):
        build(cfg2).train()


def test_resume_from_tampered_checkpoint_is_caught(tiny_coco, tmp_path):
    cfg = make_cfg(tiny_coco, tmp_path, max_epochs=1, val=False)
    build(cfg).train()
    path = tmp_path / 'work' / 'epoch_1.pth'
    ckpt = torch.load(path, weights_only=False)
    ckpt['state_dict']['backbone.layer1.0.conv1.weight'] += 0.1
    torch.save(ckpt, path)
    cfg2 = copy.deepcopy(cfg)
    cfg2.train_cfg.max_epochs = 2
    cfg2.resume = True
    with pytest.raises(FrozenModuleChanged,
                       match=r"backbone\.layer1\.0\.conv1\.weight' changed \(after loading"):
        build(cfg2).train()


def test_hook_priority_key_and_hook_instance(tiny_coco, tmp_path):
    from mmfrozen.engine import FreezeBackboneHook, freeze_hooks
    cfg = make_cfg(tiny_coco, tmp_path, val=False, max_iters=1)
    cfg.custom_hooks = [dict(type='FreezeBackboneHook', priority='HIGHEST')]
    assert frozen_parameters(build(cfg).model)
    # hooks given as objects (Runner(custom_hooks=[...]) without a config) are found too
    hook = FreezeBackboneHook(module='neck')
    found = freeze_hooks([hook, dict(type='EMAHook'), dict(type='FreezeBackboneHook')])
    assert found[0] is hook and [h.specs[0].path for h in found] == ['neck', 'backbone']
