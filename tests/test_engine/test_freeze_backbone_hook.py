"""FreezeBackboneHook + FrozenRunner, each promise checked by a real Runner training steps."""
import copy
import glob
import os.path as osp

import pytest
import torch

import mmfrozen  # noqa: F401
from mmfrozen.engine.pretrained import RandomInitFrozenError
from mmfrozen.freezing import FrozenModuleChanged
from mmfrozen.freezing.freeze import is_norm
from mmfrozen.freezing.optimizer import optimizer_holds
from mmfrozen.freezing.spec import frozen_parameters
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
    # where the frozen weights come from is logged once per run
    assert _log(tmp_path / 'work').count('hold the pretrained checkpoint') == 1


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


def test_unreachable_checkpoint_url_is_refused_before_the_download(tiny_coco, tmp_path):
    """On a machine without network mmengine fails on a URL init_cfg with a bare URLError."""
    cfg = make_cfg(tiny_coco, tmp_path, val=False, max_iters=1)
    url = 'http://127.0.0.1:9/resnet18-tiny.pth'  # nothing listens on the discard port
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=url)
    runner = build(cfg)
    with pytest.raises(ConnectionError, match=r'(?s)model\.backbone\.init_cfg\.checkpoint='
                                              rf'{url}, is not in the download cache.*set '
                                              r'model\.backbone\.init_cfg\.checkpoint to the '
                                              'local file'):
        runner.train()


_LAYER4 = (r"FreezeBackboneHook\(module='backbone'\) keeps 'backbone\.layer4' trainable "
           r"\(trainable=\['layer4'\]\), but ")
_CONV2 = (r"FreezeBackboneHook\(module='backbone'\) keeps 'backbone\.layer4\.0\.conv2' "
          r"trainable \(trainable=\['\*\.conv2'\]\), but FreezeHook\(module='backbone\."
          r"layer4'\) freezes 'backbone\.layer4', which holds it, and does not keep it "
          r"trainable \(its trainable=\[\]\): a module cannot be both\. Add '0\.conv2' to ")
_FC_CLS = (r"ClassifierRetrainHook\(module=''\) keeps 'roi_head\.bbox_head\.fc_cls' trainable "
           r".*FreezeHook\(module='roi_head\.bbox_head'\) freezes 'roi_head\.bbox_head', "
           r"which holds it, and does not keep it trainable")
CONFLICTS = {  # hooks, in either order: the refusal
    'inside': ([dict(type='FreezeBackboneHook', trainable=['layer4']),
                dict(type='FreezeHook', module='backbone.layer4')],
               _LAYER4 + r"FreezeHook\(module='backbone\.layer4'\) freezes "
                         r"'backbone\.layer4': a module cannot be both"),
    'whole_model_around': ([dict(type='FreezeBackboneHook', trainable=['layer4']),
                            dict(type='ClassifierRetrainHook')],
                           _LAYER4 + r"ClassifierRetrainHook\(module=''\) freezes the whole "
                                     r"model, which holds it, and does not keep it trainable "
                                     r"\(its trainable=\['roi_head\.bbox_head\.fc_cls'"),
    'pattern_around': ([dict(type='FreezeBackboneHook', trainable=['*.conv2']),
                        dict(type='FreezeHook', module='backbone.layer4')], _CONV2),
    'head_around_classifier': ([dict(type='ClassifierRetrainHook'),
                                dict(type='FreezeHook', module='roi_head.bbox_head')], _FC_CLS),
}


@pytest.mark.parametrize('reverse', [False, True], ids=['in_order', 'reversed'])
@pytest.mark.parametrize('case', list(CONFLICTS))
def test_a_trainable_part_frozen_by_another_hook_is_named(tiny_coco, tmp_path, case, reverse):
    """A part one hook keeps trainable and another freezes (at, inside or around it) is refused
    when the model is built, naming both hooks, in either order: not silently frozen, not
    reported as requires_grad flipped or as an optimizer with nothing left."""
    cfg = make_cfg(tiny_coco, tmp_path, val=False, max_iters=1)
    hooks, message = CONFLICTS[case]
    cfg.custom_hooks = hooks[::-1] if reverse else hooks
    with pytest.raises(RuntimeError, match=message):
        build(cfg)


def test_a_part_kept_by_both_freezes_around_it_trains(tiny_coco, tmp_path):
    cfg = make_cfg(tiny_coco, tmp_path, val=False, max_iters=1)
    cfg.custom_hooks = [dict(type='FreezeBackboneHook', trainable=['layer4']),
                        dict(type='FreezeHook', module='', allow_random_init=True,
                             trainable=['backbone.layer4', 'neck', 'rpn_head', 'roi_head'])]
    runner = build(cfg)
    assert all(p.requires_grad for p in runner.model.backbone.layer4.parameters())


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


def test_freeze_hook_outside_custom_hooks_is_an_error(tiny_coco, tmp_path):
    cfg = make_cfg(tiny_coco, tmp_path, val=False, max_iters=1)
    cfg.custom_hooks = []
    cfg.default_hooks['freeze_backbone'] = dict(type='FreezeBackboneHook')
    with pytest.raises(ValueError, match=r"default_hooks\['freeze_backbone'\] is a freeze hook "
                                         r'\(FreezeBackboneHook\).*add it to custom_hooks'):
        build(cfg).train()
    # FrozenRunner with no freeze hook in custom_hooks is refused when it is built
    cfg.default_hooks.pop('freeze_backbone')
    with pytest.raises(ValueError, match='custom_hooks holds no freeze hook'):
        build(cfg)
    # registered once the runner was built: FrozenRunner never saw it, and the hook says so
    cfg.custom_hooks = [dict(type='FreezeBackboneHook')]
    runner = build(cfg)
    runner.register_hook(dict(type='FreezeHook', module='neck'))
    with pytest.raises(RuntimeError, match="FreezeHook for 'neck'.*not through custom_hooks"):
        runner.train()


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
    from mmfrozen.config import freeze_hooks
    from mmfrozen.engine import FreezeBackboneHook
    cfg = make_cfg(tiny_coco, tmp_path, val=False, max_iters=1)
    cfg.custom_hooks = [dict(type='FreezeBackboneHook', priority='HIGHEST')]
    assert frozen_parameters(build(cfg).model)
    # hooks given as objects (Runner(custom_hooks=[...]) without a config) are found too
    hook = FreezeBackboneHook(module='neck')
    found = freeze_hooks([hook, dict(type='EMAHook'), dict(type='FreezeBackboneHook')])
    assert found[0] is hook and [h.specs[0].path for h in found] == ['neck', 'backbone']


def _log(work_dir) -> str:
    return '\n'.join(open(p).read() for p in glob.glob(str(work_dir / '*' / '*.log')))


def test_frozen_head_norms_stay_in_eval_when_its_forward_is_never_called(tiny_coco, tmp_path):
    """StandardRoIHead calls its bbox_head directly: roi_head's own forward never runs."""
    cfg = make_cfg(tiny_coco, tmp_path, val=False, max_iters=2)
    cfg.model.roi_head.bbox_head.update(type='Shared4Conv1FCBBoxHead', conv_out_channels=32,
                                        norm_cfg=dict(type='BN', requires_grad=True))
    cfg.custom_hooks = [dict(type='FreezeBackboneHook'),
                        dict(type='FreezeHook', module='roi_head', allow_random_init=True,
                             check_interval=1)]
    probe = FreezeProbeHook(module='roi_head.bbox_head')
    runner = build(cfg, probe)
    modes = []
    for m in runner.model.roi_head.modules():
        if is_norm(m):
            m.register_forward_pre_hook(lambda m, args: modes.append(m.training))
    runner.train()
    before, after = probe.snapshots['before_train'], probe.snapshots['after_train']
    head = sub_state(before, 'roi_head.')
    assert any('running_mean' in k for k in head)
    assert all(torch.equal(v, after[k]) for k, v in head.items())
    # every norm of the head ran, each time in inference mode (the hooks run in order: the
    # recording one sees the mode mmfrozen's pre-hook set)
    assert len(modes) >= 4 * 2 and not any(modes)


def test_trainable_parts_keep_requires_grad_false_set_by_the_model(tiny_coco, tmp_path):
    """DETR/DINO and caffe-style configs: norm_cfg=dict(type='BN', requires_grad=False)."""
    cfg = make_cfg(tiny_coco, tmp_path, val=False, max_iters=2)
    cfg.model.backbone.norm_cfg = dict(type='BN', requires_grad=False)
    cfg.custom_hooks = [dict(type='FreezeBackboneHook', trainable=['layer4'])]
    probe = FreezeProbeHook()
    runner = build(cfg, probe)
    runner.train()
    layer4 = runner.model.backbone.layer4
    assert not layer4[0].bn1.weight.requires_grad and layer4[0].conv1.weight.requires_grad
    before, after = probe.snapshots['before_train'], probe.snapshots['after_train']
    norms = [k for k in sub_state(before, 'backbone.layer4.') if '.bn' in k or 'downsample.1' in k]
    assert norms and all(torch.equal(before[k], after[k]) for k in norms)
    assert not torch.equal(before['backbone.layer4.0.conv1.weight'],
                           after['backbone.layer4.0.conv1.weight'])


def test_changed_trainable_list_compares_the_tensors_both_specs_cover(tiny_coco, tmp_path):
    """Progressive unfreezing: load_from/resume a frozen run's checkpoint with another
    `trainable` list. Not a changed tensor: a different spec, compared on what both cover."""
    cfg = make_cfg(tiny_coco, tmp_path, val=False, max_iters=1)
    build(cfg).train()
    all_frozen = str(tmp_path / 'work' / 'iter_1.pth')

    def run(work, load_from, trainable=(), resume=False, max_iters=1):
        c = copy.deepcopy(cfg)
        c.model.backbone.init_cfg = None
        c.load_from, c.resume, c.work_dir = load_from, resume, str(tmp_path / work)
        c.train_cfg.max_iters = max_iters
        c.custom_hooks = [dict(type='FreezeBackboneHook', trainable=list(trainable))]
        build(c).train()
        return tmp_path / work

    # layer4 added to `trainable`: the saved fingerprint covers more tensors than this run's
    work = run('unfreeze', all_frozen, trainable=['layer4'])
    assert ("the freeze spec of 'backbone' (trainable=['layer4']) differs from the one the "
            "checkpoint's fingerprint was taken with (trainable=[])") in _log(work)
    # and removed again, resuming a checkpoint without optimizer state: the saved fingerprint
    # covers fewer tensors than this run's
    ckpt = torch.load(work / 'iter_1.pth', weights_only=False)
    del ckpt['optimizer']
    torch.save(ckpt, tmp_path / 'no_optimizer.pth')
    work = run('refreeze', str(tmp_path / 'no_optimizer.pth'), resume=True, max_iters=2)
    assert "(trainable=[]) differs from the one the checkpoint's fingerprint was taken with " \
           "(trainable=['layer4'])" in _log(work)
    # a real change of a tensor both specs cover is still caught, and the message says so
    ckpt = torch.load(all_frozen, weights_only=False)
    ckpt['state_dict']['backbone.layer1.0.conv1.weight'] += 0.1
    torch.save(ckpt, tmp_path / 'tampered.pth')
    with pytest.raises(FrozenModuleChanged,
                       match=r"(?s)'backbone\.layer1\.0\.conv1\.weight' changed.*1 of 90 .*"
                             r"freeze spec of 'backbone' .* differs"):
        run('tampered', str(tmp_path / 'tampered.pth'), trainable=['layer4'])
