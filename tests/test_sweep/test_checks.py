"""A sweep config whose own parts would not train and evaluate each member as the member's config
says is refused when FrozenRunner is built, before it builds anything: its optimizer wrapper,
its evaluators, its runtime against the members', its members' classes against its data."""
import os.path as osp
import re
import runpy
import sys

import pytest
from mmengine.config import Config

import mmfrozen  # noqa: F401
from mmfrozen.config.edits import set_image_scale
from mmfrozen.sweep import SweepConfigError, check_sweep_config
from tests.utils import CONFIGS, REPO, build_runner, tiny_member_config, tiny_sweep_config

FASTER = osp.join(CONFIGS, 'faster_rcnn', 'faster-rcnn_r50-frozen_fpn_1x_coco.py')
LR = 'optim_wrapper.optimizer.lr'


@pytest.fixture(scope='module')
def member(tiny_coco, tmp_path_factory):
    """A tiny Faster R-CNN on the tiny data (3 classes, 64 px, 2 iterations, constant LR)."""
    return tiny_member_config(tiny_coco, tmp_path_factory.mktemp('sweep_checks'), FASTER, 'm',
                              max_iters=2)


def _sweep(member, **options):
    """A sweep of the member at LR 0.001 (``a``) and 1.0 (``b``), ``options`` given to ``b``."""
    return tiny_sweep_config(dict(a=dict(config=member, cfg_options={LR: 0.001}),
                                  b=dict(config=member, cfg_options={LR: 1.0, **options})),
                             member)


def test_a_sweep_that_agrees_with_its_members_passes(member):
    cfg = _sweep(member)
    check_sweep_config(cfg)
    for split in ('val', 'test'):  # validation and test may be switched off in the sweep
        for key in ('dataloader', 'cfg', 'evaluator'):
            cfg[f'{split}_{key}'] = None
    check_sweep_config(cfg)
    for split in ('val', 'test'):
        for key in ('dataloader', 'cfg', 'evaluator'):
            cfg.pop(f'{split}_{key}')
    check_sweep_config(cfg)
    check_sweep_config(Config.fromfile(member))  # not a sweep: nothing to check


def test_a_sweep_without_its_optimizer_wrapper_is_refused(member):
    """The forgotten line: the member _base_'s plain wrapper would train both members in one
    parameter group at 0.02."""
    cfg = _sweep(member)
    cfg.optim_wrapper = Config.fromfile(member).optim_wrapper
    with pytest.raises(ValueError, match=(
            r"found constructor='DefaultOptimWrapperConstructor' in optim_wrapper=.*one "
            r"parameter group at the sweep config's own settings \(lr 0.02\) \(its members "
            r"ask for lr \{'a': 0.001, 'b': 1.0\}\).*type='SweepOptimWrapper', "
            r"constructor='SweepOptimWrapperConstructor'")):
        build_runner(cfg)


def _resize(cfg, size):
    set_image_scale(cfg, (size, size))
    return cfg


def _warmup(cfg):
    cfg.param_scheduler = [dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
                                end=2), *cfg.param_scheduler]
    return cfg


@pytest.mark.parametrize('edit, what, key, mine, theirs', [
    (lambda c: c.train_cfg.update(max_iters=3), 'training loop', 'train_cfg.max_iters', '3', '2'),
    (lambda c: _resize(c, 128), 'training data and input pipeline',
     r'train_dataloader.dataset.pipeline.2.scale.0', '128', '64'),
    (_warmup, 'learning-rate schedule', 'param_scheduler', r"\[\{'type': 'LinearLR'",
     r"\[\{'begin': 0, 'end': 1, 'factor': 1.0, 'type': 'ConstantLR'\}\]"),
    (lambda c: c.val_evaluator.metric.update(metric='segm'), 'validation evaluator',
     'val_evaluator.metric', "'segm'", "'bbox'"),
    (lambda c: c.custom_hooks.clear(), 'custom hooks (the freeze hook)', 'custom_hooks',
     r'\[\]', r"\[\{.*'FreezeBackboneHook'"),
])
def test_a_sweep_whose_runtime_is_not_its_members_is_refused(member, edit, what, key, mine,
                                                             theirs):
    """The sweep's own image size, schedule, warm-up, metric or hooks would be what every member
    trains with, whatever their configs say: refused, naming the key and both values."""
    cfg = _sweep(member)
    edit(cfg)
    with pytest.raises(SweepConfigError, match=(
            rf'the sweep config and its members disagree on the {re.escape(what)}: {key} is '
            rf'{mine}.* in '
            rf"the sweep config and {theirs}.* in its members \(all 2 agree, e.g. member 'a', m.py\)")):
        build_runner(cfg)


@pytest.mark.parametrize('split', ['val', 'test'])
def test_a_sweep_without_sweep_metric_is_refused(member, split):
    cfg = _sweep(member)
    cfg[f'{split}_evaluator'] = Config.fromfile(member)[f'{split}_evaluator']
    with pytest.raises(SweepConfigError, match=(
            rf"{split}_evaluator is \['CocoMetric'\], not SweepMetric.*KeyError: "
            rf"'pred_instances' at the first {split} batch.*type='SweepMetric'")):
        build_runner(cfg)


def test_a_member_whose_classes_are_not_the_datas_is_refused(member):
    with pytest.raises(SweepConfigError, match=(
            r"sweep member 'b': model.roi_head.bbox_head.num_classes is 5, but the sweep's data "
            r"has 3 classes \(train_dataloader classes: \('shape0', 'shape1', 'shape2'\)\).*"
            r"cfg_options=\{'model.roi_head.bbox_head.num_classes': 3\}")):
        build_runner(_sweep(member, **{'model.roi_head.bbox_head.num_classes': 5}))


def test_train_amp_says_a_sweep_does_not_support_it(member, tmp_path, monkeypatch):
    """``tools/train.py SWEEP --amp``: refused for what it is, before anything is built."""
    path = str(tmp_path / 'sweep.py')
    _sweep(member).dump(path)
    monkeypatch.setattr(sys, 'argv', ['tools/train.py', path, '--amp'])
    train = runpy.run_path(osp.join(REPO, 'tools', 'train.py'))
    with pytest.raises(ValueError) as refused:
        train['main']()
    message = str(refused.value)
    assert "type='AmpOptimWrapper' (loss_scale='dynamic'" in message
    assert 'mixed precision with loss scaling is not supported for a sweep' in message
    assert "precision='bf16'" in message and 'Run without --amp' in message
    assert "come from each member's own config" not in message


def test_a_sweep_whose_seed_is_not_its_members_is_refused(member):
    """``--cfg-options randomness.seed=123`` on the sweep alone: the members' configs (and their
    split configs) would say seed 0."""
    cfg = _sweep(member)
    cfg.merge_from_dict({'randomness.seed': 123})
    with pytest.raises(SweepConfigError, match=(
            r'disagree on the random seed: randomness.seed is 123 in the sweep config and 0 in '
            'its members')):
        check_sweep_config(cfg)


@pytest.fixture
def installed(monkeypatch):
    """mmengine finds ``mmfrozen::`` configs as in a regular install (this checkout's editable
    install makes it look in site-packages)."""
    import mmengine.config.config as config_module
    import mmengine.utils as utils_module
    real = utils_module.get_installed_path

    def path(package):
        return osp.join(REPO, 'mmfrozen') if package == 'mmfrozen' else real(package)

    monkeypatch.setattr(config_module, 'get_installed_path', path)
    monkeypatch.setattr(utils_module, 'get_installed_path', path)


@pytest.mark.parametrize('text', [
    "_base_ = 'mmfrozen::sweeps/faster-rcnn-sweep_r50-frozen_fpn-lr4_1x_coco.py'\n"
    "work_dir = './work_dirs/my_lr_sweep'\n",
    "_base_ = 'mmfrozen::faster_rcnn/faster-rcnn_r50-frozen_fpn_1x_coco.py'\n"
    "member = 'mmfrozen::faster_rcnn/faster-rcnn_r50-frozen_fpn_1x_coco.py'\n"
    "model = dict(_delete_=True, type='DetectorSweep', members=dict(\n"
    "    lr01=dict(config=member, cfg_options={'optim_wrapper.optimizer.lr': 0.01}),\n"
    "    lr02=member))\n"
    "optim_wrapper = dict(_delete_=True, type='SweepOptimWrapper',\n"
    "                     constructor='SweepOptimWrapperConstructor')\n"
    "val_evaluator = dict(_delete_=True, type='SweepMetric', metric={{_base_.val_evaluator}})\n"
    'test_evaluator = val_evaluator\n',
], ids=['inherits-a-package-sweep', 'own-sweep-of-package-configs'])
def test_a_sweep_inheriting_package_configs_passes(installed, tmp_path, text):
    """mmengine stamps ``_scope_='mmfrozen'`` on the dicts of a config inherited as
    ``mmfrozen::path``: not a setting, so neither the optimizer wrapper nor the comparison with
    the members (read without it) refuses it."""
    path = tmp_path / 'user_sweep.py'
    path.write_text(text)
    cfg = Config.fromfile(str(path))
    assert cfg.optim_wrapper.get('_scope_') == 'mmfrozen' or cfg.custom_hooks[0].get('_scope_')
    check_sweep_config(cfg)


@pytest.mark.parametrize('options', [
    {'train_dataloader.num_workers': 2, 'train_dataloader.persistent_workers': True},
    {'train_dataloader.pin_memory': True},
    {'val_dataloader.batch_size': 1},
    {'test_dataloader.batch_size': 1, 'test_evaluator.metric.metric': 'segm'},
])
def test_sweep_settings_that_change_nothing_a_member_learns_pass(member, options):
    """Worker settings, the validation batch size, test-time settings and turning LR scaling on
    (tools/train.py --auto-scale-lr) were refused as if no member trained as its config says."""
    cfg = _sweep(member)
    cfg.merge_from_dict(options)
    check_sweep_config(cfg)


def test_auto_scale_lr_scales_every_member_as_alone(member, tmp_path):
    """``--auto-scale-lr``: every member's groups scaled by the one batch-size ratio, as the
    member's alone would be."""
    scale = {'auto_scale_lr.base_batch_size': 8}  # in the members' configs, not enabled
    cfg = tiny_sweep_config(dict(a=dict(config=member, cfg_options={LR: 0.001, **scale}),
                                 b=dict(config=member, cfg_options={LR: 1.0, **scale})), member)
    cfg.merge_from_dict({'auto_scale_lr.enable': True, **scale})  # what the flag does
    cfg.work_dir = str(tmp_path)
    runner = build_runner(cfg)
    optim_wrapper = runner.build_optim_wrapper(cfg.optim_wrapper)
    runner.scale_lr(optim_wrapper, runner.auto_scale_lr)
    ratio = cfg.train_dataloader.batch_size / 8
    assert {g['sweep_member']: g['lr'] for g in optim_wrapper.optimizer.param_groups} == {
        'a': pytest.approx(0.001 * ratio), 'b': pytest.approx(1.0 * ratio)}


@pytest.mark.parametrize('members_metrics, sweep_evaluator', [
    (1, lambda ms: [dict(type='SweepMetric', metric=ms[0])]),  # a list of one SweepMetric
    (1, lambda ms: dict(type='SweepMetric', metric=ms)),  # members write [m], the sweep m
    (2, lambda ms: [dict(type='SweepMetric', metric=m) for m in ms]),  # one SweepMetric each
    (2, lambda ms: dict(type='SweepMetric', metric=ms)),
], ids=['list-of-one', 'members-list-of-one', 'each-wrapped', 'list-wrapped'])
def test_equivalent_forms_of_the_sweep_evaluator_pass(member, members_metrics, sweep_evaluator):
    """Refused before as "val_evaluator.0.ann_file is '<absent>'" or list against dict."""
    metric = Config.fromfile(member).val_evaluator.to_dict()
    metrics = [metric, dict(metric, metric='proposal_fast', prefix='proposals')][:members_metrics]
    listed = {'val_evaluator': metrics, 'test_evaluator': metrics}
    cfg = tiny_sweep_config(dict(a=dict(config=member, cfg_options={LR: 0.001, **listed}),
                                 b=dict(config=member, cfg_options={LR: 1.0, **listed})), member)
    cfg.val_evaluator = cfg.test_evaluator = sweep_evaluator(metrics)
    check_sweep_config(cfg)
    cfg.val_evaluator = dict(type='SweepMetric',
                             metric=metrics[:-1] + [dict(metrics[-1], metric='segm')])
    with pytest.raises(SweepConfigError, match=(
            rf"validation evaluator: val_evaluator.{members_metrics - 1}.metric is 'segm'")):
        check_sweep_config(cfg)


@pytest.mark.parametrize('save_best, found', [
    ('coco/bbox_mAP', r"'coco/bbox_mAP' is no metric of the sweep.*KeyError after the first "
     r"validation\). .*save_best=\['a/coco/bbox_mAP', 'b/coco/bbox_mAP'\]"),
    ('auto', r"'auto' keeps the best checkpoint by the first metric reported, the first "
     r"member's \('a'\) only.*save_best=\['a/coco/bbox_mAP', 'b/coco/bbox_mAP'\]"),
    (['a/coco/bbox_mAP', 'bbox_mAP'], r"'bbox_mAP' is no metric of the sweep"),
])
def test_save_best_naming_no_members_metric_is_refused(member, save_best, found):
    """Before: a bare KeyError after the first validation, or (auto) the best of member a only,
    silently."""
    cfg = _sweep(member)
    cfg.default_hooks.checkpoint.save_best = save_best
    with pytest.raises(SweepConfigError, match=rf'default_hooks.checkpoint.save_best=.*{found}'):
        check_sweep_config(cfg)
    cfg.default_hooks.checkpoint.save_best = ['a/coco/bbox_mAP', 'b/coco/bbox_mAP']
    check_sweep_config(cfg)


def test_a_plateau_scheduler_is_refused(member):
    """One scheduler would lower every member's LR when one metric stalls (and its monitor
    named no key of the sweep: KeyError after the first validation)."""
    plateau = [dict(type='ReduceOnPlateauLR', monitor='coco/bbox_mAP', rule='greater',
                    factor=0.1, patience=0, by_epoch=True)]
    cfg = tiny_sweep_config(
        dict(a=dict(config=member, cfg_options={LR: 0.001, 'param_scheduler': plateau}),
             b=dict(config=member, cfg_options={LR: 1.0, 'param_scheduler': plateau})), member)
    cfg.param_scheduler = plateau
    with pytest.raises(SweepConfigError, match=(
            r"param_scheduler.0 is 'ReduceOnPlateauLR' \(monitor='coco/bbox_mAP'\): one "
            r"scheduler steps every member's parameter groups.*Not supported in a sweep")):
        check_sweep_config(cfg)


def test_a_panoptic_member_is_checked_against_the_thing_classes():
    """Panoptic FPN's detection heads predict the 80 thing classes of the 133 the dataset
    declares (stuff classes are the semantic head's): refused before as "num_classes is 80, but
    the sweep's data has 133 classes"."""
    from mmfrozen.sweep.checks import check_sweep_num_classes
    cfg = dict(train_dataloader=dict(dataset=dict(type='CocoPanopticDataset')))
    model = dict(type='PanopticFPN', roi_head=dict(bbox_head=dict(num_classes=80),
                                                   mask_head=dict(num_classes=80)),
                 semantic_head=dict(num_things_classes=80, num_stuff_classes=53))
    check_sweep_num_classes(cfg, dict(panoptic=model))
    model['roi_head']['bbox_head']['num_classes'] = 133
    with pytest.raises(SweepConfigError, match=(
            r"'panoptic': model.roi_head.bbox_head.num_classes is 133, but the sweep's data has "
            r'80 classes \(train_dataloader thing_classes: ')):
        check_sweep_num_classes(cfg, dict(panoptic=model))


def test_a_member_optim_wrapper_named_with_its_scope_passes(member, tmp_path):
    """``type='mmengine.OptimWrapper'`` is the plain wrapper: it was refused by its spelling."""
    scoped = {'optim_wrapper.type': 'mmengine.OptimWrapper'}
    cfg = tiny_sweep_config(dict(a=dict(config=member, cfg_options={LR: 0.001, **scoped}),
                                 b=dict(config=member, cfg_options={LR: 1.0, **scoped})), member)
    cfg.work_dir = str(tmp_path)
    runner = build_runner(cfg)
    optim_wrapper = runner.build_optim_wrapper(cfg.optim_wrapper)
    assert [g['lr'] for g in optim_wrapper.optimizer.param_groups] == [0.001, 1.0]


def test_a_member_with_amp_is_refused_by_the_config_check(member):
    """Before: accepted by the check, then refused in train() without a reason or a way out."""
    with pytest.raises(ValueError, match=(
            r"sweep member 'a': its optim_wrapper is type='AmpOptimWrapper' \(loss_scale="
            r"'dynamic'.*One loss scaler would serve every member.*Give it the plain wrapper: "
            r"cfg_options=\{'optim_wrapper.type': 'OptimWrapper'\}")):
        amp = {'optim_wrapper.type': 'AmpOptimWrapper'}
        check_sweep_config(tiny_sweep_config(
            dict(a=dict(config=member, cfg_options=amp), b=dict(config=member,
                                                              cfg_options={LR: 1.0, **amp})),
            member))


def test_a_member_that_is_itself_a_sweep_is_named_as_one(member, tmp_path):
    """Was: "its model has no backbone"."""
    inner = str(tmp_path / 'inner_sweep.py')
    _sweep(member).dump(inner)
    with pytest.raises(SweepConfigError, match=(
            r"sweep member 'nested' \(.*inner_sweep.py\) is itself a sweep \(model.type="
            r"'DetectorSweep'\): members must be detector configs")):
        check_sweep_config(tiny_sweep_config(dict(a=member, nested=inner), member))


def test_a_sweep_optim_wrapper_without_its_constructor_is_named_so(member):
    """Was: "found constructor='DefaultOptimWrapperConstructor' ... would train every member in
    one parameter group", though that build fails."""
    cfg = _sweep(member)
    cfg.optim_wrapper = dict(type='SweepOptimWrapper')
    with pytest.raises(ValueError, match=(
            r"optim_wrapper=\{'type': 'SweepOptimWrapper'\} has no constructor: mmengine's "
            r"default one cannot build a SweepOptimWrapper.*constructor="
            r"'SweepOptimWrapperConstructor'")):
        check_sweep_config(cfg)
