"""A sweep trained by the runner, validated per member, split, and each member tested alone with
tools/test.py and the config the split wrote for it; two-process DDP training of a sweep (gloo,
CPU)."""
import copy
import glob
import json
import os
import os.path as osp
import runpy
import sys

import pytest
import torch
from mmengine.config import Config

import mmfrozen  # noqa: F401
from mmfrozen.checkpoint import CheckpointMismatchError
from mmfrozen.engine.pretrained import RandomInitFrozenError
from mmfrozen.sweep import split_sweep_checkpoint
from tests.test_tools.test_train_tools import _free_port, _pretrained_digest, _run
from tests.utils import CONFIGS, REPO, build_runner, tiny_member_config, tiny_sweep_config

FASTER = osp.join(CONFIGS, 'faster_rcnn', 'faster-rcnn_r50-frozen_fpn_1x_coco.py')
BIFPN = osp.join(CONFIGS, 'faster_rcnn', 'faster-rcnn_r50-frozen_bifpn-r1_1x_coco.py')
RETINA = osp.join(CONFIGS, 'retinanet', 'retinanet_r50-frozen_fpn_1x_coco.py')


def _scalars(work_dir):
    found = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    assert found, f'no scalars.json under {work_dir}'
    return [json.loads(line) for line in open(found[-1]) if line.strip()]


def _test_metrics(work_dir):
    """The metrics tools/test.py logged (mmengine writes them to <timestamp>/<timestamp>.json)."""
    found = sorted(p for p in glob.glob(osp.join(work_dir, '*', '*.json')))
    assert found, f'no test results under {work_dir}'
    return json.load(open(found[-1]))


@pytest.mark.slow
def test_sweep_trains_validates_per_member_and_splits_into_member_checkpoints(tiny_coco,
                                                                              tmp_path, capsys):
    # the sweep narrows the RetinaNet member's head: its config file alone builds another model
    members = dict(faster=tiny_member_config(tiny_coco, tmp_path, FASTER, 'faster'),
                   retina=tiny_member_config(tiny_coco, tmp_path, RETINA, 'retina'))
    narrow = {'model.bbox_head.feat_channels': 16}
    cfg = tiny_sweep_config(dict(faster=members['faster'],
                                 retina=dict(config=members['retina'], cfg_options=narrow)),
                            members['faster'])
    runner = build_runner(cfg)
    runner.train()

    records = _scalars(cfg.work_dir)
    train = [r for r in records if 'faster/loss_rpn_cls' in r]
    assert train and all('retina/loss_cls' in r and 'retina/lr' in r for r in train)
    evals = [r for r in records if 'faster/coco/bbox_mAP' in r]
    assert len(evals) == 1 and 'retina/coco/bbox_mAP' in evals[0]
    pretrained = torch.load(tmp_path / 'pretrained.pth')['state_dict']
    ckpt_path = osp.join(cfg.work_dir, 'epoch_1.pth')
    state = torch.load(ckpt_path, weights_only=False)['state_dict']
    for k, v in pretrained.items():
        assert torch.equal(state[k], v), k

    # resume: the guard re-checks the backbone against the fingerprints in the checkpoint, the
    # optimizer state goes back into each member's own parameter groups
    resumed_cfg = copy.deepcopy(cfg)
    resumed_cfg.train_cfg.max_epochs = 2  # and so in every member (the sweep checks they agree)
    two = {'train_cfg.max_epochs': 2}
    resumed_cfg.model.members = dict(
        faster=dict(config=members['faster'], cfg_options=two),
        retina=dict(config=members['retina'], cfg_options=dict(narrow, **two)))
    resumed_cfg.update(resume=True, val_cfg=None, val_dataloader=None, val_evaluator=None)
    resumed = build_runner(resumed_cfg)
    resumed.train()
    assert resumed.epoch == 2
    assert [g['sweep_member'] for g in resumed.optim_wrapper.optimizer.param_groups] == [
        'faster', 'retina']
    second = torch.load(osp.join(cfg.work_dir, 'epoch_2.pth'), weights_only=False)['state_dict']
    for k, v in pretrained.items():
        assert torch.equal(second[k], v), k
    for name in ('faster', 'retina'):
        assert any(not torch.equal(v, second[k]) for k, v in state.items()
                   if k.startswith(f'members.{name}.') and v.is_floating_point()), name

    split = osp.join(tmp_path, 'split')
    tool = runpy.run_path(osp.join(REPO, 'tools', 'split_sweep_checkpoint.py'))
    capsys.readouterr()
    assert tool['main']([ckpt_path, '--out-dir', split]) == 0
    out = capsys.readouterr().out
    for name in ('faster', 'retina'):
        stem = osp.join(split, f'epoch_1_{name}')
        assert f'{name}: python tools/test.py {stem}.py {stem}.pth\n' in out
    assert tool['main']([osp.join(split, 'none.pth')]) == 1  # a clear error, no traceback
    assert 'checkpoint not found' in capsys.readouterr().err
    for name in ('faster', 'retina'):
        member_ckpt = osp.join(split, f'epoch_1_{name}.pth')
        ckpt = torch.load(member_ckpt, weights_only=False)
        assert set(ckpt) == {'meta', 'state_dict'} and ckpt['meta']['sweep_member'] == name
        assert 'backbone' in ckpt['meta']['mmfrozen_fingerprints']
        # the config written next to it evaluates its checkpoint to exactly the sweep's numbers:
        # with tools/test.py, and (to save a process start) with a Runner in this process
        member_config = osp.join(split, f'epoch_1_{name}.py')
        work = osp.join(tmp_path, f'test_{name}')
        if name == 'faster':
            _run([sys.executable, 'tools/test.py', member_config, member_ckpt, '--work-dir',
                  work], tmp_path)
            alone = _test_metrics(work)
        else:
            # the member's config file without the sweep's cfg_options: refused, not random
            own = Config.fromfile(members[name])
            own.update(work_dir=work, load_from=member_ckpt)
            with pytest.raises(CheckpointMismatchError, match='differ in shape'):
                build_runner(own).test()
            member_cfg = Config.fromfile(member_config)
            member_cfg.update(work_dir=work, load_from=member_ckpt)
            alone = build_runner(member_cfg).test()
        for key in ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_s'):
            assert alone[f'coco/{key}'] == evals[0][f'{name}/coco/{key}'], (name, key)


def test_split_refuses_a_checkpoint_that_is_not_a_sweeps(tmp_path):
    path = str(tmp_path / 'plain.pth')
    torch.save(dict(state_dict={'backbone.conv1.weight': torch.zeros(1)}), path)
    with pytest.raises(ValueError, match='not a DetectorSweep checkpoint'):
        split_sweep_checkpoint(path, str(tmp_path))
    torch.save(dict(state_dict={'backbone.w': torch.zeros(1), 'members.a.neck.w': torch.ones(1)}),
               path)
    with pytest.raises(ValueError, match=r"no member \['b'\]; its members are \['a'\]"):
        split_sweep_checkpoint(path, str(tmp_path), members=['b'])
    # without the sweep config the runner records, the members' configs are unknown
    with pytest.raises(ValueError, match=r'records no DetectorSweep config \(meta\["cfg"\]'):
        split_sweep_checkpoint(path, str(tmp_path / 'out'))


@pytest.mark.slow
def test_dist_train_sweep_two_processes_without_find_unused_parameters(tiny_coco, tmp_path):
    # a StackedBiFPN member pads to 128 (its P7); the FPN member is told to pad the same way
    run = dict(max_iters=2, val=False, checkpoint_interval=2)
    bifpn = tiny_member_config(tiny_coco, tmp_path, BIFPN, 'bifpn', **run)
    # the probe in the members' hooks too: a sweep's hooks must be its members'
    hooks = {'custom_hooks': [*Config.fromfile(bifpn).custom_hooks,
                              dict(type='FreezeProbeHook', digests=('backbone', 'members'))]}
    members = dict(
        fpn=dict(config=tiny_member_config(tiny_coco, tmp_path, FASTER, 'fpn', **run),
                 cfg_options={'model.data_preprocessor.pad_size_divisor': 128, **hooks}),
        bifpn=dict(config=bifpn, cfg_options=hooks))
    cfg = tiny_sweep_config(members, bifpn)
    cfg.custom_imports = dict(imports=['mmfrozen', 'tests._probe_hook'],
                              allow_failed_imports=False)
    cfg.merge_from_dict(hooks)
    assert not cfg.get('find_unused_parameters', False)
    path = str(tmp_path / 'sweep.py')
    cfg.dump(path)
    os.environ['PORT'] = str(_free_port())
    try:
        _run(['bash', 'tools/dist_train.sh', path, '2'], tmp_path)
    finally:
        os.environ.pop('PORT', None)
    ranks = [json.load(open(osp.join(cfg.work_dir, f'probe_rank{r}.json'))) for r in (0, 1)]
    pretrained = _pretrained_digest(tmp_path)
    for probe in ranks:
        assert probe['backbone'] == probe['backbone_before_train'] == pretrained
        assert probe['members'] != probe['members_before_train']
    # DDP kept both members' weights in sync (batch-norm statistics of the StackedBiFPN stay
    # per rank: DDP runs with broadcast_buffers=False, as mmengine's wrapper does by default)
    assert ranks[0]['members_params'] == ranks[1]['members_params']
    # wrapped in DDP that expects a gradient for every trainable parameter at every step
    assert [p['ddp_find_unused_parameters'] for p in ranks] == [False, False]


def test_runner_refuses_a_sweep_whose_backbone_nothing_loads(tiny_coco, tmp_path):
    no_weights = {'model.backbone.init_cfg': None}
    members = dict(a=dict(config=tiny_member_config(tiny_coco, tmp_path, FASTER, 'a'),
                          cfg_options=no_weights),
                   b=dict(config=tiny_member_config(tiny_coco, tmp_path, RETINA, 'b'),
                          cfg_options=no_weights))
    with pytest.raises(RandomInitFrozenError, match="refusing to freeze 'backbone'"):
        build_runner(tiny_sweep_config(members, members['a']['config']))


def test_results_table_rows_are_the_members_that_trained_not_their_edited_files(tiny_coco,
                                                                                 tmp_path):
    """A user trains a sweep, then widens member b's box head in its file for the next
    experiment, then makes the table of the first sweep: b's row is the model that trained (the
    config the sweep recorded in its checkpoint), and a warning names the changed file."""
    from mmfrozen.analysis.params import count_config
    from mmfrozen.analysis.results.table import ResultsTable
    a = tiny_member_config(tiny_coco, tmp_path, FASTER, 'a', max_iters=1, val=False)
    b = tiny_member_config(tiny_coco, tmp_path, FASTER, 'b', max_iters=1, val=False)
    cfg = tiny_sweep_config(dict(a=a, b=dict(config=b, cfg_options={
        'optim_wrapper.optimizer.lr': 0.01})), a)
    cfg.work_dir = str(tmp_path / 'sweep')
    build_runner(cfg).train()
    ran = count_config(b).trainable
    edited = Config.fromfile(b)
    edited.model.roi_head.bbox_head.fc_out_channels = 256  # the next experiment
    edited.dump(b)
    assert count_config(b).trainable != ran
    table = ResultsTable.from_work_dirs([str(tmp_path / 'sweep')])
    rows = {r.summary.run.label.rsplit(' ', 1)[-1]: r for r in table.rows}
    assert rows['[b]'].summary.trainable_params == ran
    assert rows['[a]'].summary.trainable_params == count_config(a).trainable
    assert [w for w in table.warnings if 'changed since the sweep trained it' in w] == [
        w for w in table.warnings if f"member 'b'\'s config {b} changed since" in w] != []


def auto_scaled_sweep(tiny_coco, tmp_path, work_dir):
    """A sweep of two tiny Faster R-CNN members (lr 0.02 and 0.01, base batch 8) as
    ``tools/train.py SWEEP --auto-scale-lr`` runs it (auto_scale_lr.enable=True)."""
    member = tiny_member_config(tiny_coco, tmp_path, FASTER, 'm', max_iters=1, val=False)
    scale = {'auto_scale_lr.base_batch_size': 8}
    cfg = tiny_sweep_config(dict(a=dict(config=member, cfg_options=scale),
                                 b=dict(config=member, cfg_options={
                                     'optim_wrapper.optimizer.lr': 0.01, **scale})), member)
    cfg.merge_from_dict(dict(scale, **{'auto_scale_lr.enable': True}))  # what the flag does
    cfg.work_dir = work_dir
    return cfg


def test_the_split_config_of_an_auto_scaled_sweep_trains_at_the_lr_the_member_trained(
        tiny_coco, tmp_path):
    """``tools/train.py SWEEP --auto-scale-lr`` scales every member's LR by batch / base batch.
    Each split config is the config the member trained with: it says so (the sweep's
    auto_scale_lr), so retraining or reading it gives the member's LR, not the unscaled one."""
    cfg = auto_scaled_sweep(tiny_coco, tmp_path, str(tmp_path / 'work'))
    runner = build_runner(cfg)
    runner.train()
    trained = {g['sweep_member']: g['initial_lr']
               for g in runner.optim_wrapper.optimizer.param_groups}
    ratio = cfg.train_dataloader.batch_size / 8
    assert trained == {'a': pytest.approx(0.02 * ratio), 'b': pytest.approx(0.01 * ratio)}
    written = split_sweep_checkpoint(osp.join(cfg.work_dir, 'iter_1.pth'),
                                     str(tmp_path / 'split'))
    for name, (config, _) in written.items():
        assert Config.fromfile(config).auto_scale_lr == dict(enable=True, base_batch_size=8)
    # member b trained alone from its split config: the LR the sweep trained it at
    alone = Config.fromfile(written['b'][0])
    alone.work_dir = str(tmp_path / 'alone_b')
    runner = build_runner(alone)
    runner.train()
    lrs = [g['initial_lr'] for g in runner.optim_wrapper.optimizer.param_groups]
    assert lrs == [pytest.approx(trained['b'])] * len(lrs)
