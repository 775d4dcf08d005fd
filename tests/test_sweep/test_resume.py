"""A sweep checkpoint loaded back: resuming a sweep whose members or their settings changed since,
loading checkpoints that are not a sweep's, testing (members it lacks, ``tools/test.py --out``)."""
import os.path as osp

import pytest
import torch

import mmfrozen  # noqa: F401
from tests.utils import CONFIGS, build_runner, tiny_member_config, tiny_sweep_config

RETINA = osp.join(CONFIGS, 'retinanet', 'retinanet_r50-frozen_fpn_1x_coco.py')


@pytest.fixture(scope='module')
def checkpoint(tiny_coco, tmp_path_factory):
    """A sweep of members ``a`` and ``b`` (one tiny RetinaNet) trained for one iteration; its
    member config and work dir (holding ``iter_1.pth``)."""
    root = tmp_path_factory.mktemp('sweep_resume')
    member = tiny_member_config(tiny_coco, root, RETINA, 'retina', max_iters=1, val=False)
    cfg = tiny_sweep_config(dict(a=member, b=member), member)
    build_runner(cfg).train()
    assert osp.isfile(osp.join(cfg.work_dir, 'iter_1.pth'))
    return member, cfg.work_dir


@pytest.mark.parametrize('names, change', [
    (('a', 'c'), r"this run has \['a', 'c'\] \(added \['c'\]; removed or renamed \['b'\]\)"),
    (('a', 'b', 'c'), r"this run has \['a', 'b', 'c'\] \(added \['c'\]\)"),
])
def test_resume_names_the_members_that_changed(checkpoint, names, change):
    """Renamed: before, a bare StopIteration in get_lr (the groups kept the old names); added:
    a size mismatch blamed on another freeze hook or stock mmdet."""
    member, work_dir = checkpoint
    longer = {'train_cfg.max_iters': 2}  # one more iteration than the checkpoint's
    cfg = tiny_sweep_config({n: dict(config=member, cfg_options=longer) for n in names}, member)
    cfg.merge_from_dict(longer)
    cfg.update(work_dir=work_dir, resume=True, load_from=osp.join(work_dir, 'iter_1.pth'))
    with pytest.raises(ValueError, match=(
            r"cannot resume .*iter_1.pth: the sweep's members changed since it was written: it "
            rf"holds the optimizer state of members \['a', 'b'\], {change}.*put the member list "
            'back as it was')):
        build_runner(cfg).train()


def test_resume_names_the_member_whose_parameter_groups_changed(checkpoint, tmp_path):
    """Same members, but the optimizer state of ``b`` covers one parameter fewer (its model or
    optimizer settings changed): named, not blamed on another freeze hook or stock mmdet."""
    member, work_dir = checkpoint
    ckpt = torch.load(osp.join(work_dir, 'iter_1.pth'), weights_only=False)
    group = next(g for g in ckpt['optimizer']['param_groups'] if g['sweep_member'] == 'b')
    group['params'] = group['params'][:-1]
    changed = str(tmp_path / 'changed.pth')
    torch.save(ckpt, changed)
    longer = {'train_cfg.max_iters': 2}
    cfg = tiny_sweep_config({n: dict(config=member, cfg_options=longer) for n in 'ab'}, member)
    cfg.merge_from_dict(longer)
    cfg.update(work_dir=str(tmp_path / 'work'), resume=True, load_from=changed)
    with pytest.raises(ValueError, match=(
            r"cannot resume .*changed.pth: sweep member 'b' has parameter groups of sizes "
            r"\[\d+\] in it and \[\d+\] in this run: the member's model or optimizer settings "
            'changed since')):
        build_runner(cfg).train()


@pytest.mark.parametrize('key, value, setting', [
    ('optim_wrapper.optimizer.lr', 0.05, r'initial_lr=0.01 in it .*initial_lr=0.05 in this run'),
    ('optim_wrapper.optimizer.weight_decay', 0.0,
     r'weight_decay=0.0001 in it .*weight_decay=0.0 in this run'),
])
def test_resume_names_the_member_whose_optimizer_settings_changed(checkpoint, tmp_path, key,
                                                                   value, setting):
    """Before, the member went on silently at the checkpoint's learning rate or weight decay
    (the optimizer state replaced the configured values; its logged lr was the old one)."""
    member, work_dir = checkpoint
    longer = {'train_cfg.max_iters': 2}
    cfg = tiny_sweep_config(dict(a=dict(config=member, cfg_options=longer),
                                 b=dict(config=member, cfg_options={key: value, **longer})),
                            member)
    cfg.merge_from_dict(longer)
    cfg.update(work_dir=str(tmp_path / 'work'), resume=True,
               load_from=osp.join(work_dir, 'iter_1.pth'))
    with pytest.raises(ValueError, match=(
            rf"cannot resume .*iter_1.pth: sweep member 'b' has {setting}: its optimizer "
            r"settings changed since.*load_from=.*resume=False")):
        build_runner(cfg).train()


@pytest.mark.parametrize('kind', ['detector', 'split member'])
def test_a_checkpoint_without_sweep_members_into_a_sweep_is_refused(checkpoint, tmp_path, kind):
    """A detector's checkpoint (or a member split from a sweep) as the load_from of a sweep:
    before, none of the members' tensors loaded, with only mmengine's missing-keys warning."""
    from mmfrozen.checkpoint import CheckpointMismatchError
    from mmfrozen.sweep import split_sweep_checkpoint
    member, work_dir = checkpoint
    written = split_sweep_checkpoint(osp.join(work_dir, 'iter_1.pth'), str(tmp_path / 'split'))
    path = written['a'][1]
    if kind == 'detector':
        path = str(tmp_path / 'detector.pth')
        torch.save(dict(state_dict=torch.load(written['a'][1])['state_dict'], meta={}), path)
    what = ("sweep member 'a' split from .*iter_1.pth" if kind == 'split member'
            else "a detector's, not a sweep's")
    cfg = tiny_sweep_config(dict(a=member, b=member), member)
    cfg.update(work_dir=str(tmp_path / 'work'), load_from=path)
    with pytest.raises(CheckpointMismatchError, match=(
            rf'holds no sweep members .*: it is {what}.*this model is a sweep of '
            r"\['a', 'b'\]: none of their necks and heads would load.*'model.neck.init_cfg'")):
        build_runner(cfg).train()


def test_testing_a_sweep_with_a_member_the_checkpoint_lacks_is_refused(checkpoint, tmp_path):
    """tools/test.py with a member added since training: it was evaluated at its random
    initialisation, with only a warning."""
    from mmfrozen.checkpoint import CheckpointMismatchError
    member, work_dir = checkpoint
    cfg = tiny_sweep_config(dict(a=member, b=member, c=member), member)
    cfg.work_dir = str(tmp_path / 'work')
    runner = build_runner(cfg)  # test(): the checkpoint is loaded before any training loop
    with pytest.raises(CheckpointMismatchError, match=(
            r"holds sweep members \['a', 'b'\], but this sweep also has \['c'\], which are not "
            r'in it: they would be evaluated at their random initialisation')):
        runner.load_checkpoint(osp.join(work_dir, 'iter_1.pth'))


def test_tools_test_out_writes_one_pickle_per_member(checkpoint, tmp_path, monkeypatch):
    """``tools/test.py SWEEP CKPT --out r.pkl``: was refused as a config without SweepMetric;
    wrapped by hand, both members wrote r.pkl (the last one's predictions)."""
    import pickle
    import runpy
    import sys

    from tests.utils import REPO
    member, work_dir = checkpoint
    config = str(tmp_path / 'sweep.py')
    tiny_sweep_config(dict(a=member, b=member), member).dump(config)
    out = tmp_path / 'r.pkl'
    monkeypatch.setattr(sys, 'argv', ['tools/test.py', config, osp.join(work_dir, 'iter_1.pth'),
                                      '--out', str(out), '--work-dir', str(tmp_path / 'w')])
    runpy.run_path(osp.join(REPO, 'tools', 'test.py'))['main']()
    assert sorted(p.name for p in tmp_path.glob('*.pkl')) == ['r_a.pkl', 'r_b.pkl']
    for name in 'ab':
        results = pickle.load(open(tmp_path / f'r_{name}.pkl', 'rb'))
        assert len(results) == 4 and 'pred_instances' in results[0]  # the 4 test images


def test_resume_names_the_member_whose_model_changed(checkpoint, tmp_path):
    """Member ``b``'s head narrowed since the checkpoint (its parameter groups keep their
    sizes): before, mmengine's size-mismatch warnings and a torch RuntimeError at the first
    step, naming no member."""
    from mmfrozen.checkpoint import CheckpointMismatchError
    member, work_dir = checkpoint
    longer = {'train_cfg.max_iters': 2}
    narrow = {'model.bbox_head.feat_channels': 16, **longer}
    cfg = tiny_sweep_config(dict(a=dict(config=member, cfg_options=longer),
                                 b=dict(config=member, cfg_options=narrow)), member)
    cfg.merge_from_dict(longer)
    cfg.update(work_dir=str(tmp_path / 'work'), resume=True,
               load_from=osp.join(work_dir, 'iter_1.pth'))
    with pytest.raises(CheckpointMismatchError, match=(
            r"iter_1.pth: sweep member 'b' of this sweep is not the model the checkpoint holds "
            r'for it: \d+ tensors differ in shape \(first: members.b.bbox_head.*Resuming '
            'continues the same run')):
        build_runner(cfg).train()


def test_resume_compares_scheduled_settings_by_their_initial_values():
    """What a scheduler moves during training (the LR, AdamW's momentum in ``betas``) is
    compared by its recorded initial value: a resume at another point of the schedule passes;
    a changed weight decay does not."""
    import copy

    from mmfrozen.sweep import MEMBER_KEY, SweepOptimWrapper
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(2))], lr=1e-4,
                                  weight_decay=0.05)
    group = optimizer.param_groups[0]
    group.update({MEMBER_KEY: 'a', 'initial_lr': 1e-4, 'momentum': 0.9,
                  'initial_momentum': 0.9})
    wrapper = SweepOptimWrapper(optimizer)
    saved = copy.deepcopy(optimizer.state_dict())
    saved['param_groups'][0].update(lr=5e-5, momentum=0.85, betas=(0.85, 0.999))
    wrapper.check_state_dict(saved)
    saved['param_groups'][0]['weight_decay'] = 0.0
    with pytest.raises(ValueError, match=(
            r"sweep member 'a' has weight_decay=0.0 in it \(its parameter group 0\) and "
            r'weight_decay=0.05 in this run')):
        wrapper.check_state_dict(saved)
