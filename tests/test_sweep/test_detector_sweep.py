"""DetectorSweep: one frozen backbone forward, members that train exactly as they would alone."""
import copy
import logging
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner, set_random_seed

import mmfrozen  # noqa: F401
from mmfrozen.engine.frozen_model import build_frozen_model, build_frozen_optim_wrapper
from mmfrozen.freezing.optimizer import optimizer_holds
from mmfrozen.freezing.spec import frozen_parameters
from mmfrozen.sweep import MEMBER_KEY, MEMBER_PREDS, DetectorSweep
from tests.utils import CONFIGS, tiny_member_config, tiny_sweep_config

FASTER = osp.join(CONFIGS, 'faster_rcnn', 'faster-rcnn_r50-frozen_fpn_1x_coco.py')
RETINA = osp.join(CONFIGS, 'retinanet', 'retinanet_r50-frozen_fpn_1x_coco.py')
ITERS = 3


@pytest.fixture(scope='module')
def members(tiny_coco, tmp_path_factory):
    """Two members of different detector types: Faster R-CNN (random RPN/RoI sampling) and
    RetinaNet, with different learning rates and gradient clipping for one of them (written
    once for the module; the tests only read them)."""
    root = tmp_path_factory.mktemp('sweep_members')
    faster = tiny_member_config(tiny_coco, root, FASTER, 'faster')
    retina = tiny_member_config(tiny_coco, root, RETINA, 'retina')
    cfg = Config.fromfile(retina)
    cfg.optim_wrapper.clip_grad = dict(max_norm=0.5, norm_type=2)
    cfg.dump(retina)
    return dict(faster=faster, retina=retina)


def _build(cfg):
    """Model and optimizer wrapper as FrozenRunner builds them for training, seed 0."""
    set_random_seed(0)
    model = build_frozen_model(cfg.model, cfg.custom_hooks, check_pretrained=False,
                               default_scope=cfg.get('default_scope', 'mmdet'))
    model.init_weights()
    optim_wrapper = build_frozen_optim_wrapper(model, cfg.optim_wrapper)
    assert optimizer_holds(optim_wrapper.optimizer, frozen_parameters(model)) == []
    return model, optim_wrapper


def _batches(cfg, n):
    loader = Runner.build_dataloader(copy.deepcopy(cfg.train_dataloader), seed=0)
    out = []
    for batch in loader:
        out.append(batch)
        if len(out) == n:
            return out
    raise AssertionError(f'the tiny data gave fewer than {n} batches')


def _train(model, optim_wrapper, batches):
    model.train()
    logs = [model.train_step(copy.deepcopy(b), optim_wrapper=optim_wrapper) for b in batches]
    return logs


def test_members_train_exactly_as_alone(members):
    sweep_cfg = tiny_sweep_config(members, members['faster'])
    sweep, sweep_optim = _build(sweep_cfg)
    batches = _batches(sweep_cfg, ITERS)

    # the backbone forward runs once per step, whatever the number of members
    calls = []
    sweep.backbone.register_forward_hook(lambda *_: calls.append(1))
    logs = _train(sweep, sweep_optim, batches)
    assert len(calls) == ITERS
    assert {'loss', 'faster/loss', 'faster/loss_rpn_cls', 'faster/loss_bbox', 'faster/acc',
            'retina/loss', 'retina/loss_cls', 'retina/loss_bbox'} <= set(logs[-1])
    assert torch.allclose(logs[-1]['loss'], logs[-1]['faster/loss'] + logs[-1]['retina/loss'])

    pretrained = torch.load(osp.join(osp.dirname(members['faster']), 'pretrained.pth'))[
        'state_dict']
    for name, path in members.items():
        cfg = Config.fromfile(path)
        alone, alone_optim = _build(cfg)
        _train(alone, alone_optim, batches)
        own = sweep.members[name].state_dict()
        ref = {k: v for k, v in alone.state_dict().items() if not k.startswith('backbone.')}
        assert set(own) == set(ref)
        # Exact: a member's loss is parsed by the member itself, the total loss is a plain sum
        # (gradient 1 to each member), its parameter groups and clipping are its own, and it
        # draws its random RPN/RoI samples from its own stream, so the arithmetic is the same.
        changed = [k for k in ref if not torch.equal(own[k], ref[k])]
        assert changed == [], f'{name}: {len(changed)} tensors differ, first {changed[:3]}'
        init = _build(cfg)[0].state_dict()
        assert any(not torch.equal(v, init[k]) for k, v in ref.items()
                   if v.is_floating_point()), f'{name} did not train'
    for k, v in sweep.backbone.state_dict().items():
        assert torch.equal(v, pretrained[f'backbone.{k}']), k


def test_optimizer_groups_are_each_members_own(members):
    sweep, optim_wrapper = _build(tiny_sweep_config(members, members['faster']))
    groups = optim_wrapper.optimizer.param_groups
    by_member = {}
    for group in groups:
        by_member.setdefault(group[MEMBER_KEY], []).append(group)
    assert list(by_member) == ['faster', 'retina']
    for name, path in members.items():
        own = Config.fromfile(path).optim_wrapper.optimizer
        for group in by_member[name]:
            assert group['lr'] == own.lr and group['weight_decay'] == own.weight_decay
            assert group['momentum'] == own.momentum
        params = {id(p) for g in by_member[name] for p in g['params']}
        assert params == {id(p) for p in sweep.members[name].parameters()}
    assert by_member['faster'][0]['lr'] != by_member['retina'][0]['lr']
    assert not {id(p) for p in sweep.backbone.parameters()} & {
        id(p) for g in groups for p in g['params']}
    assert optim_wrapper.get_lr()['retina/lr'] == [by_member['retina'][0]['lr']]


def _member_configs(members, tmp_path, optim_wrappers):
    """The test's members with their optim_wrapper replaced (name: optim_wrapper dict)."""
    out = {}
    for name, optim_wrapper in optim_wrappers.items():
        cfg = Config.fromfile(members[name])
        cfg.optim_wrapper = optim_wrapper
        out[name] = str(tmp_path / f'{name}.py')
        cfg.dump(out[name])
    return out


def test_adamw_members_keep_their_groups_and_train_exactly_as_alone(members, tmp_path):
    """Members on the plain-ViT recipe's AdamW with its paramwise_cfg: the sweep's optimizer is
    an AdamW whose groups are, one by one, those the member builds alone, and one step leaves
    each member bitwise where it is alone. (torch's AdamW keeps settings in its defaults that
    its constructor does not take, so the merged optimizer cannot be rebuilt from them.)"""
    recipe = Config.fromfile(osp.join(CONFIGS, '_base_', 'common', 'vit_adamw.py'))
    recipe = {k: v for k, v in recipe.vit_optim_wrapper.items() if k != '_delete_'}
    adamw = _member_configs(members, tmp_path, {
        name: dict(recipe, optimizer=dict(recipe['optimizer'], lr=lr))
        for name, lr in (('faster', 1e-4), ('retina', 4e-4))})
    sweep_cfg = tiny_sweep_config(adamw, adamw['faster'])
    sweep, optim_wrapper = _build(sweep_cfg)
    assert type(optim_wrapper.optimizer) is torch.optim.AdamW

    def settings(groups):
        return [{k: v for k, v in g.items() if k not in ('params', MEMBER_KEY)} for g in groups]

    groups = optim_wrapper.optimizer.param_groups
    assert {g['lr'] for g in groups} == {1e-4, 4e-4}
    batches = _batches(sweep_cfg, 1)
    _train(sweep, optim_wrapper, batches)
    for name, path in adamw.items():
        alone, alone_optim = _build(Config.fromfile(path))
        mine = [g for g in groups if g[MEMBER_KEY] == name]
        assert settings(mine) == settings(alone_optim.optimizer.param_groups)
        assert [len(g['params']) for g in mine] == [
            len(g['params']) for g in alone_optim.optimizer.param_groups]
        init = {k: v.clone() for k, v in alone.state_dict().items()}
        _train(alone, alone_optim, batches)
        own = sweep.members[name].state_dict()
        ref = {k: v for k, v in alone.state_dict().items() if not k.startswith('backbone.')}
        changed = [k for k in ref if not torch.equal(own[k], ref[k])]
        assert changed == [], f'{name}: {len(changed)} tensors differ, first {changed[:3]}'
        assert any(not torch.equal(v, init[k]) for k, v in ref.items()
                   if v.is_floating_point()), f'{name} did not train'


def test_optimizers_that_cannot_take_the_members_groups_are_refused(members, tmp_path):
    lbfgs = _member_configs(members, tmp_path, {
        name: dict(type='OptimWrapper', optimizer=dict(type='LBFGS', lr=0.1))
        for name in members})
    with pytest.raises(ValueError, match="'faster': LBFGS cannot take the other members'"):
        _build(tiny_sweep_config(lbfgs, lbfgs['faster']))


def test_gradients_are_clipped_per_member(members):
    sweep, optim_wrapper = _build(tiny_sweep_config(members, members['faster']))
    for p in sweep.members.parameters():
        p.grad = torch.full_like(p, 10.0)
    optim_wrapper._clip_grad()

    def norm(name):
        return torch.norm(torch.stack([p.grad.norm() for p in sweep.members[name].parameters()]))

    assert norm('retina').item() == pytest.approx(0.5, rel=1e-4)  # its own max_norm
    n = sum(p.numel() for p in sweep.members['faster'].parameters())
    assert norm('faster').item() == pytest.approx(10.0 * n**0.5, rel=1e-4)  # it does not clip


def test_predict_gives_every_members_result(members):
    sweep, _ = _build(tiny_sweep_config(members, members['faster']))
    batch = _batches(tiny_sweep_config(members, members['faster']), 1)[0]
    sweep.eval()
    with torch.no_grad():
        out = sweep.val_step(copy.deepcopy(batch))
    assert len(out) == len(batch['inputs'])
    for sample in out:
        preds = sample.get(MEMBER_PREDS)
        assert sorted(preds.keys()) == ['faster', 'retina']
        for name in ('faster', 'retina'):
            inst = preds.get(name).pred_instances
            assert inst.bboxes.shape[-1] == 4 and len(inst.scores) == len(inst.labels)
        assert 'pred_instances' not in sample  # no top-level result: which member's would it be?


def test_refuses_to_train_an_unfrozen_backbone(members):
    cfg = tiny_sweep_config(members, members['faster'])
    sweep = build_frozen_model(cfg.model, custom_hooks=None,
                               default_scope=cfg.get('default_scope', 'mmdet'))
    batch = sweep.data_preprocessor(_batches(cfg, 1)[0], True)
    with pytest.raises(RuntimeError, match='parameters of model.backbone require gradients'):
        sweep(**batch, mode='loss')


def test_one_backbone_module_and_member_layout(members):
    sweep, _ = _build(tiny_sweep_config(members, members['faster']))
    assert isinstance(sweep, DetectorSweep)
    keys = list(sweep.state_dict())
    assert keys[0].startswith('backbone.')
    assert {k.split('.')[0] for k in keys} == {'backbone', 'members'}
    assert not [k for k in keys if '.backbone.' in k]  # members hold no backbone of their own
    assert list(frozen_parameters(sweep)) == [f'backbone.{n}' for n, _ in
                                              sweep.backbone.named_parameters()]


def test_train_step_refuses_an_optimizer_wrapper_that_is_not_the_sweeps(members):
    """On any runner (mmengine's own too): a plain wrapper, as a sweep config without its
    optimizer line builds it, is refused before the first update."""
    cfg = tiny_sweep_config(members, members['faster'])
    sweep, _ = _build(cfg)
    plain = build_frozen_optim_wrapper(sweep, Config.fromfile(members['faster']).optim_wrapper)
    before = {k: v.clone() for k, v in sweep.state_dict().items()}
    with pytest.raises(TypeError, match=(
            r'the optimizer wrapper is OptimWrapper, whose 1 parameter groups name no member '
            r"\(lr \[0.02\]\): every member would train at those settings.*"
            r"type='SweepOptimWrapper', constructor='SweepOptimWrapperConstructor'")):
        _train(sweep, plain, _batches(cfg, 1))
    assert all(torch.equal(v, before[k]) for k, v in sweep.state_dict().items())


def test_a_member_whose_optimizer_constructor_needs_its_backbone_is_named(members, tmp_path):
    """mmdet's layer-decay constructor (its ConvNeXt configs) reads the member's backbone, which
    a sweep member does not hold."""
    adamw = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05))
    decay = dict(adamw, constructor='LearningRateDecayOptimizerConstructor',
                 paramwise_cfg=dict(decay_rate=0.8, decay_type='layer_wise', num_layers=6))
    changed = _member_configs(members, tmp_path, dict(faster=adamw, retina=decay))
    with pytest.raises(ValueError, match=(
            r"sweep member 'retina': its optimizer constructor "
            r"'LearningRateDecayOptimizerConstructor' failed \(NotImplementedError.*"
            r'member.backbone is an nn.Identity')):
        _build(tiny_sweep_config(changed, changed['faster']))


def test_a_diverging_member_is_named_once_and_the_logged_loss_stays_finite(members):
    """A member whose loss is not finite: a warning names it when it diverges (not at every
    step), the logged ``loss`` sums the other members', the back-propagated total keeps it."""
    from mmengine.logging import MMLogger
    sweep, _ = _build(tiny_sweep_config(members, members['faster']))
    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    MMLogger.get_current_instance().addHandler(handler)

    def losses(retina):
        return {'faster/loss_cls': torch.tensor(1.0, requires_grad=True),
                'retina/loss_cls': torch.tensor(retina, requires_grad=True)}

    try:
        for retina in (2.0, float('nan'), float('inf'), 3.0, float('nan')):
            total, log_vars = sweep.parse_losses(losses(retina))
            finite = retina == retina and retina != float('inf')
            assert log_vars['loss'].item() == (1.0 + retina if finite else 1.0)
            assert torch.isfinite(total).item() == finite
    finally:
        MMLogger.get_current_instance().removeHandler(handler)
    warned = [r.getMessage() for r in records]
    assert len(warned) == 2, warned  # when it diverged, and again after it had recovered
    assert all("the loss of sweep member 'retina' is not finite" in w for w in warned)
    assert 'the logged `loss` sums the finite members\' losses only' in warned[0]


def test_a_diverged_member_is_named_in_a_real_run_and_its_metrics_are_nan(members, tmp_path):
    """The Runner trains a sweep one of whose members has a NaN loss from the first step: the
    other trains on, the logged ``loss`` is its loss, one warning names the diverged member, and
    its validation metrics are NaN next to the other's instead of missing."""
    import glob
    import json

    from mmengine.logging import MMLogger

    from tests.utils import build_runner
    retina = members['retina']
    nan = {'model.bbox_head.loss_cls.loss_weight': float('nan')}
    cfg = tiny_sweep_config(dict(a=retina, b=dict(config=retina, cfg_options=nan)), retina)
    cfg.work_dir = str(tmp_path / 'work')
    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    runner = build_runner(cfg)
    MMLogger.get_current_instance().addHandler(handler)
    try:
        runner.train()
    finally:
        MMLogger.get_current_instance().removeHandler(handler)
    diverged = [r.getMessage() for r in records if 'is not finite' in r.getMessage()]
    assert len(diverged) == 1 and "sweep member 'b'" in diverged[0]
    assert any("SweepMetric: sweep member 'b' has no ['coco/bbox_mAP'" in r.getMessage()
               for r in records)
    (scalars,) = glob.glob(osp.join(cfg.work_dir, '*', 'vis_data', 'scalars.json'))
    logged = [json.loads(line) for line in open(scalars)]
    train = [r for r in logged if 'a/loss' in r]
    assert len(train) == 4 and all(r['loss'] == r['a/loss'] and r['b/loss'] != r['b/loss']
                                   for r in train)  # NaN != NaN
    (val,) = [r for r in logged if 'a/coco/bbox_mAP' in r]
    assert val['a/coco/bbox_mAP'] >= 0 and val['b/coco/bbox_mAP'] != val['b/coco/bbox_mAP']
