"""Sweep members: refused with an error naming the difference when they cannot share."""
import glob
import logging
import os.path as osp

import pytest
from mmengine.config import Config

import mmfrozen  # noqa: F401
from mmfrozen.sweep import (SweepConfigError, check_sweep_config, expand_sweep_config,
                            is_sweep_config, load_sweep_members, sweep_member_configs)
from tests.utils import CONFIGS

FASTER = osp.join(CONFIGS, 'faster_rcnn', 'faster-rcnn_r50-frozen_fpn_1x_coco.py')
FASTER_FT = osp.join(CONFIGS, 'faster_rcnn', 'faster-rcnn_r50-ft_fpn_1x_coco.py')
ADAPTERS = osp.join(CONFIGS, 'faster_rcnn', 'faster-rcnn_r50-frozen-adapters_fpn_1x_coco.py')
BIFPN = osp.join(CONFIGS, 'faster_rcnn', 'faster-rcnn_r50-frozen_bifpn-r3_1x_coco.py')
R101 = osp.join(CONFIGS, 'faster_rcnn', 'faster-rcnn_r101-frozen_fpn_1x_coco.py')
RETINA = osp.join(CONFIGS, 'retinanet', 'retinanet_r50-frozen_fpn_1x_coco.py')
LR = 'optim_wrapper.optimizer.lr'
SWEEPS = sorted(glob.glob(osp.join(CONFIGS, 'sweeps', '*.py')))


def test_members_that_agree_load_with_their_options():
    members = load_sweep_members(dict(
        c=RETINA, a=FASTER,
        b=dict(config=FASTER, cfg_options={'optim_wrapper.optimizer.lr': 0.04})))
    assert list(members) == ['a', 'b', 'c']  # by name, whatever the order in the config
    assert members['b'].cfg.optim_wrapper.optimizer.lr == 0.04
    assert members['a'].cfg.optim_wrapper.optimizer.lr == 0.02
    assert members['c'].stem == 'retinanet_r50-frozen_fpn_1x_coco'


@pytest.mark.parametrize('other, options, what, key', [
    (R101, {}, 'backbone', 'model.backbone.depth'),
    (FASTER, {'model.backbone.init_cfg.checkpoint': 'other.pth'}, 'backbone checkpoint',
     'model.backbone.init_cfg.checkpoint'),
    (BIFPN, {}, 'data preprocessor', 'model.data_preprocessor.pad_size_divisor'),
    (FASTER, {'train_dataloader.dataset.pipeline.3.prob': 0.0},
     'training data and input pipeline', 'train_dataloader.dataset.pipeline.3.prob'),
    (FASTER, {'param_scheduler.1.milestones': [4, 6]}, 'learning-rate schedule',
     'param_scheduler.1.milestones.0'),
    (FASTER, {'optim_wrapper.optimizer.type': 'AdamW'}, 'optimizer type',
     'optim_wrapper.optimizer.type'),
    # the run scales every member's LR by the batch size or none: a member asking for it beside
    # one that does not would train at another LR than alone
    (FASTER, {'auto_scale_lr.enable': True}, 'LR scaling rule', 'auto_scale_lr.enable'),
])
def test_members_that_disagree_are_refused_naming_the_difference(other, options, what, key):
    with pytest.raises(SweepConfigError,
                       match=rf"'a' .* and 'b' .* disagree on the {what}: {key} is "):
        load_sweep_members(dict(a=FASTER, b=dict(config=other, cfg_options=options)))


def test_bifpn_member_joins_an_fpn_sweep_once_the_padding_agrees():
    members = load_sweep_members(dict(
        fpn=dict(config=FASTER, cfg_options={'model.data_preprocessor.pad_size_divisor': 128}),
        bifpn=BIFPN))
    assert members['fpn'].cfg.model.neck.type == 'FPN'


@pytest.mark.parametrize('member, match', [
    (FASTER_FT, "is 'ft': a sweep shares one frozen backbone"),
    (ADAPTERS, "is 'frozen-adapters'.*parts of its backbone train"),
])
def test_members_must_be_frozen_without_adapters(member, match):
    with pytest.raises(SweepConfigError, match=match):
        load_sweep_members(dict(a=member))


@pytest.mark.parametrize('members, match', [
    (dict(a='faster_rcnn/faster-rcnn_r50-frozen_fpn_1x_coco.py'), 'is a relative path'),
    (dict(a='/no/such/config.py'), 'not found'),
    ({'1st': FASTER}, 'member name'),
    ({'a.b': FASTER}, 'member name'),
    (dict(a=dict(path=FASTER)), 'expected the path of a detector config'),
    ({}, 'at least one member'),
])
def test_malformed_member_entries_are_refused(members, match):
    with pytest.raises(SweepConfigError, match=match):
        load_sweep_members(members)


@pytest.mark.parametrize('path', SWEEPS, ids=[osp.basename(p) for p in SWEEPS])
def test_sweep_configs_members_can_share(path):
    cfg = Config.fromfile(path)
    assert is_sweep_config(cfg)
    members = sweep_member_configs(cfg)
    assert len(members) >= 3
    # the sweep runs on its _base_ member's data, schedule and runtime: one of the members
    first = next(iter(members.values())).cfg
    for key in ('train_dataloader', 'param_scheduler', 'train_cfg', 'custom_hooks'):
        assert cfg[key] == first[key], key
    assert cfg.val_evaluator.metric == first.val_evaluator
    check_sweep_config(cfg)  # and all that FrozenRunner checks before it builds the run


def test_expand_sweep_config_inlines_members_and_hoists_the_shared_parts():
    cfg = Config.fromfile(osp.join(CONFIGS, 'sweeps',
                                   'faster-rcnn-sweep_r50-frozen_bifpn-r1-r3-r6_1x_coco.py'))
    expand_sweep_config(cfg)
    assert cfg.model.backbone.type == 'ResNet' and cfg.model.backbone.depth == 50
    assert cfg.model.data_preprocessor.pad_size_divisor == 128
    assert list(cfg.model.members) == ['r1', 'r3', 'r6']
    for name, repeats in (('r1', 1), ('r3', 3), ('r6', 6)):
        entry = cfg.model.members[name]
        assert entry.model.neck.num_repeats == repeats
        assert 'backbone' not in entry.model and 'data_preprocessor' not in entry.model
        assert entry.optim_wrapper.optimizer.type == 'SGD'
        assert entry.config.endswith(f'faster-rcnn_r50-frozen_bifpn-{name}_1x_coco.py')
    assert expand_sweep_config(cfg) is cfg  # idempotent
    with pytest.raises(SweepConfigError, match='expanded'):
        sweep_member_configs(cfg)


def test_members_with_different_seeds_are_refused():
    """One seed starts every member: seeds 0 and 1 would train identical copies, not
    replicates."""
    with pytest.raises(SweepConfigError, match=(
            r"'a' .* and 'b' .* disagree on the random seed: randomness.seed is 0 vs 1.*"
            r'identical copies, not seed replicates.*run one sweep per seed')):
        load_sweep_members(dict(a=dict(config=FASTER, cfg_options={'randomness.seed': 0}),
                                b=dict(config=FASTER, cfg_options={'randomness.seed': 1})))


def test_members_with_the_same_config_are_warned_about():
    from mmengine.logging import MMLogger
    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    MMLogger.get_current_instance().addHandler(handler)
    try:
        load_sweep_members(dict(a=FASTER, b=FASTER,
                                c=dict(config=FASTER, cfg_options={LR: 0.04})))
    finally:
        MMLogger.get_current_instance().removeHandler(handler)
    warned = [r.getMessage() for r in records if 'sweep members' in r.getMessage()]
    assert len(warned) == 1, warned
    assert "sweep members 'a' and 'b' have the same config" in warned[0]
    assert 'bitwise identical copies' in warned[0]


def test_a_member_with_its_own_load_from_is_refused():
    """The sweep loads only its own load_from: the member's neck and heads would have started
    from their initialisation, silently."""
    with pytest.raises(SweepConfigError, match=(
            r"sweep member 'a' \(.*\) sets load_from='/det/iter_1.pth', which a sweep does not "
            r"apply.*'load_from': None, 'model.neck.init_cfg': dict\(type='Pretrained', "
            r"checkpoint='/det/iter_1.pth', prefix='neck.'\)")):
        load_sweep_members(dict(a=dict(config=FASTER, cfg_options={'load_from': '/det/iter_1.pth'}),
                                b=FASTER))


def test_a_member_option_set_twice_is_refused():
    """``model.members.b.cfg_options.model.test_cfg.rcnn.score_thr=0.3`` given with
    --cfg-options next to the sweep config's dotted key: the run took 0.3, the config written
    to the work dir (keys sorted) rebuilt it with 0.05."""
    thr = 'model.test_cfg.rcnn.score_thr'
    nested = {'model': {'test_cfg': {'rcnn': {'score_thr': 0.3}}}}
    with pytest.raises(SweepConfigError, match=(
            rf"sweep member 'b': its cfg_options set {thr} twice, to 0.05 and to 0.3.*Set it "
            'once')):
        load_sweep_members(dict(b=dict(config=FASTER, cfg_options={thr: 0.05, **nested})))
    for options in ({thr: 0.3, **nested}, {**nested, thr: 0.3}, nested):
        members = load_sweep_members(dict(b=dict(config=FASTER, cfg_options=options)))
        assert members['b'].cfg.model.test_cfg.rcnn.score_thr == 0.3


def test_a_member_whose_weights_come_from_a_detector_level_init_cfg_is_refused():
    """Alone, model.init_cfg loads the backbone (over its own init_cfg); the sweep built the
    shared backbone from model.backbone alone: refused as loading nothing, or (both set) trained
    silently on model.backbone.init_cfg's weights."""
    init = {'model.init_cfg': dict(type='Pretrained', checkpoint='/det/r50.pth')}
    with pytest.raises(SweepConfigError, match=(
            r"sweep member 'a' \(.*\) sets model.init_cfg=\{'type': 'Pretrained', "
            r"'checkpoint': '/det/r50.pth'\}, at the detector level.*Move the backbone's weights "
            r"to model.backbone.init_cfg=dict\(type='Pretrained', checkpoint=..., "
            r"prefix='backbone.'\)")):
        load_sweep_members(dict(a=dict(config=FASTER, cfg_options=init), b=FASTER))
