"""The resume and checkpoint checks on what users do: resumes that must go on (AdamW with
paramwise settings and momentum schedules, --auto-scale-lr on both sessions, LoRA, the LVIS
stage 2, EMA, an auto-scaled sweep) and changes that must be refused rather than silently
replaced by the checkpoint's (beta2, the LR schedule), LoRA checkpoints into LoRA of other
targets, rank or alpha or as a frozen twin's init_cfg, LoRA on the MLP linears, and a sweep's
member configs after its checkpoint was split and removed."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

import mmfrozen  # noqa: F401
from tests.utils import build_runner, tiny_frozen_cfg


def _cfg(tiny_coco, tmp_path, edit, max_iters):
    cfg = tiny_frozen_cfg(tiny_coco, tmp_path, val=False, max_iters=max_iters)
    edit(cfg)
    return cfg


def _train_then_resume(tiny_coco, tmp_path, edit, edit2=None):
    build_runner(_cfg(tiny_coco, tmp_path, edit, 1)).train()
    again = _cfg(tiny_coco, tmp_path, edit2 or edit, 2)
    again.resume = True
    runner = build_runner(again)
    runner.train()
    return runner


def _adamw_momentum(cfg):
    cfg.optim_wrapper.optimizer = dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999),
                                       weight_decay=0.05, amsgrad=True)
    cfg.optim_wrapper.paramwise_cfg = dict(norm_decay_mult=0.0,
                                           custom_keys={'neck': dict(lr_mult=0.5)})
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=1),
        dict(type='CosineAnnealingLR', by_epoch=False, begin=0, end=2, eta_min=0.0),
        dict(type='CosineAnnealingMomentum', by_epoch=False, begin=0, end=2, eta_min=0.85),
    ]


def test_resume_unchanged_adamw_paramwise_cosine_momentum(tiny_coco, tmp_path):
    """AdamW (betas, amsgrad), paramwise_cfg/custom_keys, cosine LR and momentum: resumed
    unchanged, the run goes on."""
    runner = _train_then_resume(tiny_coco, tmp_path, _adamw_momentum)
    assert runner.iter == 2


def test_resume_with_changed_adam_beta2_under_momentum_scheduler_is_refused(tiny_coco, tmp_path):
    """AdamW under a momentum scheduler: the user changes beta2 (betas[1], which no scheduler
    moves) and resumes: refused (mmengine would go on with the checkpoint's beta2)."""
    def changed(cfg):
        _adamw_momentum(cfg)
        cfg.optim_wrapper.optimizer.betas = (0.9, 0.98)
    # betas[0] as the momentum scheduler left it in the checkpoint, betas[1] the one changed
    with pytest.raises(ValueError, match=r'cannot resume.*betas=\(0\.\d+, 0\.999\) in it .*'
                                         r'and betas=\(0\.9, 0\.98\)'):
        _train_then_resume(tiny_coco, tmp_path, _adamw_momentum, changed)


def test_resume_unchanged_with_auto_scale_lr_on_both_sessions(tiny_coco, tmp_path):
    """--auto-scale-lr (auto_scale_lr.enable=True) on the first session and on the resume, same
    batch: nothing changed, the run goes on."""
    def edit(cfg):
        cfg.auto_scale_lr = dict(enable=True, base_batch_size=16)
    runner = _train_then_resume(tiny_coco, tmp_path, edit)
    assert runner.iter == 2


def _lr_step_at(milestone):
    """A config edit: one MultiStepLR step (x0.1) at iteration ``milestone``."""
    def edit(cfg):
        cfg.param_scheduler = [dict(type='MultiStepLR', by_epoch=False, begin=0, end=100,
                                    milestones=[milestone], gamma=0.1)]
    return edit


def test_resume_with_changed_lr_milestones_is_refused(tiny_coco, tmp_path):
    """The user moves the LR step (param_scheduler milestones) and resumes: refused (the
    optimizer's initial_lr is the same, but mmengine's scheduler state would replace the
    milestones with the checkpoint's)."""
    first, moved = _lr_step_at(50), _lr_step_at(1)
    with pytest.raises(ValueError, match=r"cannot resume.*parameter scheduler 0 \(MultiStepLR\) "
                                         r"has milestones=Counter\(\{50: 1\}\) in it"):
        _train_then_resume(tiny_coco, tmp_path, first, moved)


def test_resume_true_with_no_checkpoint_yet_trains(tiny_coco, tmp_path):
    """resume=True on a fresh work dir (nothing to resume): trains from the start."""
    cfg = tiny_frozen_cfg(tiny_coco, tmp_path, val=False, max_iters=1)
    cfg.resume = True
    runner = build_runner(cfg)
    runner.train()
    assert runner.iter == 1


# --- LoRA ---------------------------------------------------------------------------------

def _vit(tiny_coco, tmp_path, mode='frozen-lora', **kw):
    from tests.test_models.test_backbones.test_frozen_vit import tiny_vit_cfg
    tmp_path.mkdir(parents=True, exist_ok=True)
    cfg, _ = tiny_vit_cfg(tiny_coco, tmp_path, 'dinov2-b', mode=mode, max_iters=1, val=False,
                          **kw)
    return cfg


def test_frozen_lora_run_resumed_unchanged(tiny_coco, tmp_path):
    cfg = _vit(tiny_coco, tmp_path)
    build_runner(cfg).train()
    again = _vit(tiny_coco, tmp_path)
    again.train_cfg.max_iters = 2
    again.resume = True
    runner = build_runner(again)
    runner.train()
    assert runner.iter == 2


def test_frozen_lora_checkpoint_tested_with_a_lora_of_fewer_targets_is_refused(tiny_coco,
                                                                               tmp_path):
    """A frozen-lora run adapting qkv and proj (the shipped default), tested with a frozen-lora
    config adapting qkv only: refused (mmengine would drop the proj updates with a warning)."""
    from mmfrozen.checkpoint import CheckpointMismatchError
    cfg = _vit(tiny_coco, tmp_path / 'wide')
    build_runner(cfg).train()
    ckpt = str(tmp_path / 'wide' / 'work' / 'iter_1.pth')
    assert any('.attn.proj.lora.up.weight' in k
               for k in torch.load(ckpt, weights_only=False)['state_dict'])
    narrow = _vit(tiny_coco, tmp_path / 'narrow')
    narrow.model.backbone.lora_cfg = dict(rank=8, targets=['*.attn.qkv'])
    narrow.load_from = ckpt
    with pytest.raises(CheckpointMismatchError, match='lora_cfg.targets adapts other layers'):
        build_runner(narrow).test()


def test_frozen_lora_checkpoint_tested_with_another_rank_is_refused(tiny_coco, tmp_path):
    """A rank-4 frozen-lora run tested with the rank-8 config: refused (every update differs in
    shape; mmengine would leave the LoRA at B=0, the plain frozen ViT, with a warning)."""
    from mmfrozen.checkpoint import CheckpointMismatchError
    cfg = _vit(tiny_coco, tmp_path / 'r4')
    cfg.model.backbone.lora_cfg = dict(rank=4)
    build_runner(cfg).train()
    other = _vit(tiny_coco, tmp_path / 'r8')
    other.load_from = str(tmp_path / 'r4' / 'work' / 'iter_1.pth')
    with pytest.raises(CheckpointMismatchError, match='another lora_cfg.rank'):
        build_runner(other).test()


# --- sweeps: results table -------------------------------------------------------------------

def test_results_table_of_an_unedited_auto_scaled_sweep_warns_of_no_edit(tiny_coco, tmp_path):
    """A sweep run with --auto-scale-lr; nobody edits any member file; the results table must
    not say a member's config 'changed since the sweep trained it'."""
    from mmfrozen.analysis.results.table import ResultsTable
    from tests.test_sweep.test_tools import auto_scaled_sweep
    build_runner(auto_scaled_sweep(tiny_coco, tmp_path, str(tmp_path / 'sweep'))).train()
    table = ResultsTable.from_work_dirs([str(tmp_path / 'sweep')])
    assert len(table.rows) == 2
    assert not [w for w in table.warnings if 'changed since' in w], table.warnings


# --- the optimizer check on its own ----------------------------------------------------------

def _two_optimizers():
    from mmengine.optim import OptimWrapper, OptimWrapperDict
    a, b = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    return OptimWrapperDict(
        gen=OptimWrapper(torch.optim.AdamW(a.parameters(), lr=1e-3, betas=(0.5, 0.9))),
        disc=OptimWrapper(torch.optim.SGD(b.parameters(), lr=0.01, momentum=0.9)))


def test_optim_wrapper_dict_resumed_unchanged_is_accepted():
    from mmfrozen.engine.runner.checks import check_optimizer_state
    saved = _two_optimizers().state_dict()
    check_optimizer_state(_two_optimizers(), saved, 'iter_1.pth', 0)


def test_checkpoint_of_an_older_torch_without_a_new_group_key_is_accepted():
    """A torch upgrade adds a param-group key (or the old one lacks it): not a change."""
    from mmfrozen.engine.runner.checks import check_optimizer_state
    saved = _two_optimizers().state_dict()
    for g in saved['gen']['param_groups']:
        g.pop('fused', None), g.pop('differentiable', None)
        g['some_removed_key'] = 1
    check_optimizer_state(_two_optimizers(), saved, 'iter_1.pth', 0)


def test_frozen_lora_checkpoint_as_the_frozen_twins_backbone_init_cfg_is_refused(tiny_coco,
                                                                                  tmp_path):
    """The unmerged frozen-lora checkpoint given to the frozen twin as its backbone's
    Pretrained init_cfg (instead of load_from): refused as load_from is (mmengine's init-time
    loader would drop the updates as unexpected keys)."""
    from mmfrozen.checkpoint import CheckpointMismatchError
    cfg = _vit(tiny_coco, tmp_path / 'lora')
    build_runner(cfg).train()
    twin = _vit(tiny_coco, tmp_path / 'twin', mode='frozen')
    twin.model.backbone.init_cfg = dict(type='Pretrained', prefix='backbone.',
                                        checkpoint=str(tmp_path / 'lora' / 'work' / 'iter_1.pth'))
    with pytest.raises(CheckpointMismatchError, match='holds the LoRA updates of a frozen-lora '
                                                      'run .* but this model has no LoRA'):
        build_runner(twin).train()


def test_lora_on_mlp_targets_of_the_dinov2_vit_builds():
    """lora_cfg targets=ATTENTION_TARGETS + MLP_TARGETS (documented in attach_lora) on the
    mmpretrain ViT of the dinov2 configs: init_weights must not crash."""
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope
    from mmfrozen.models.backbones.lora import ATTENTION_TARGETS, MLP_TARGETS
    init_default_scope('mmdet')
    from tests.utils import CONFIGS
    cfg = Config.fromfile(osp.join(
        CONFIGS, 'mask_rcnn', 'mask-rcnn_dinov2-b-frozen-lora_sfp-nasfpn_lsj-72e-adamw_coco.py'))
    backbone = dict(cfg.model.backbone, arch=dict(embed_dims=32, num_layers=2, num_heads=2,
                                                  feedforward_channels=64), img_size=64,
                    init_cfg=None,
                    lora_cfg=dict(rank=4, targets=list(ATTENTION_TARGETS + MLP_TARGETS)))
    backbone.pop('layer_scale_init_value', None)
    model = MODELS.build(backbone)
    model.init_weights()
    loras = dict(model.named_modules())
    ups = {n: m.up.weight for n, m in loras.items() if type(m).__name__ == 'LoRA'}
    assert any('.ffn.' in n for n in ups) and any('.attn.' in n for n in ups)
    # every update still starts at zero (the FFN's initialiser did not reach B)
    assert all(not w.any() for w in ups.values())


def test_lvis_stage2_resumed_unchanged(tiny_coco, tmp_path):
    """The LVIS stage-2 config (ClassifierRetrainHook, load_from the stage-1 run), interrupted
    and resumed (tools/train.py --resume: resume=True, load_from=None)."""
    from tests.test_engine.test_stage2_classifier_retrain import STAGE1, STAGE2, build, tiny
    cfg1 = tiny(Config.fromfile(STAGE1), tiny_coco, tmp_path / 'stage1', tmp_path,
                max_iters=1, val=False, checkpoint_interval=1)
    build(cfg1).train()

    def stage2(iters):
        cfg2 = tiny(Config.fromfile(STAGE2), tiny_coco, tmp_path / 'stage2', tmp_path,
                    max_iters=iters, val=False, checkpoint_interval=1)
        cfg2.load_from = str(tmp_path / 'stage1' / 'iter_1.pth')
        return cfg2
    build(stage2(1)).train()
    again = stage2(2)
    again.resume, again.load_from = True, None
    runner = build(again)
    runner.train()
    assert runner.iter == 2


def test_results_table_after_split_and_removing_the_sweep_checkpoint_uses_what_trained(
        tiny_coco, tmp_path):
    """A user trains a sweep, splits its checkpoint in the work dir (tools/
    split_sweep_checkpoint.py), deletes the big sweep checkpoint (the member files are what they
    keep), then edits member b's config for the next experiment: b's row is the model that
    trained (the config the split wrote next to its weights), and the edit is named."""
    import os
    from mmfrozen.analysis.params import count_config
    from mmfrozen.analysis.results.table import ResultsTable
    from mmfrozen.sweep import split_sweep_checkpoint
    from tests.test_sweep.test_tools import FASTER
    from tests.utils import tiny_member_config, tiny_sweep_config
    a = tiny_member_config(tiny_coco, tmp_path, FASTER, 'a', max_iters=1, val=False)
    b = tiny_member_config(tiny_coco, tmp_path, FASTER, 'b', max_iters=1, val=False)
    cfg = tiny_sweep_config(dict(a=a, b=dict(config=b, cfg_options={
        'optim_wrapper.optimizer.lr': 0.01})), a)
    cfg.work_dir = str(tmp_path / 'sweep')
    build_runner(cfg).train()
    sweep_ckpt = osp.join(cfg.work_dir, 'iter_1.pth')
    split_sweep_checkpoint(sweep_ckpt, cfg.work_dir)
    os.remove(sweep_ckpt)
    ran = count_config(b).trainable
    edited = Config.fromfile(b)
    edited.model.roi_head.bbox_head.fc_out_channels = 256  # the next experiment
    edited.dump(b)
    table = ResultsTable.from_work_dirs([cfg.work_dir])
    rows = {r.summary.run.label.rsplit(' ', 1)[-1]: r for r in table.rows}
    assert rows['[b]'].summary.trainable_params == ran, table.warnings
    assert any(f"member 'b'\'s config {b} changed since" in w and 'split configs' in w
               for w in table.warnings), table.warnings


def test_auto_scaled_sweep_resumed_unchanged(tiny_coco, tmp_path):
    """tools/train.py SWEEP --auto-scale-lr, interrupted, then --resume --auto-scale-lr."""
    from tests.test_sweep.test_tools import FASTER
    from tests.utils import tiny_member_config, tiny_sweep_config
    member = tiny_member_config(tiny_coco, tmp_path, FASTER, 'm', max_iters=2, val=False,
                                checkpoint_interval=1)
    scale = {'auto_scale_lr.base_batch_size': 8}

    def sweep():
        cfg = tiny_sweep_config(dict(a=dict(config=member, cfg_options=scale),
                                     b=dict(config=member, cfg_options={
                                         'optim_wrapper.optimizer.lr': 0.01, **scale})), member)
        cfg.merge_from_dict(dict(scale, **{'auto_scale_lr.enable': True}))
        cfg.work_dir = str(tmp_path / 'work')
        return cfg
    build_runner(sweep()).train()
    again = sweep()
    again.resume, again.load_from = True, str(tmp_path / 'work' / 'iter_1.pth')
    runner = build_runner(again)
    runner.train()
    assert runner.iter == 2


def test_frozen_run_with_ema_resumed_unchanged(tiny_coco, tmp_path):
    def edit(cfg):
        cfg.custom_hooks = [dict(type='FreezeBackboneHook'),
                            dict(type='EMAHook', momentum=0.0002, priority=49)]
    runner = _train_then_resume(tiny_coco, tmp_path, edit)
    assert runner.iter == 2


def test_frozen_lora_checkpoint_tested_with_another_alpha_is_refused(tiny_coco, tmp_path):
    """A frozen-lora run (alpha = rank) tested with a sibling config that scales the updates by
    alpha=64: refused, as tools/merge_lora.py refuses the pair (every tensor would load and the
    updates run at 8x their trained scale)."""
    from mmfrozen.checkpoint import CheckpointMismatchError
    cfg = _vit(tiny_coco, tmp_path / 'a')
    build_runner(cfg).train()
    other = _vit(tiny_coco, tmp_path / 'b')
    other.model.backbone.lora_cfg = dict(other.model.backbone.lora_cfg, alpha=64)
    other.load_from = str(tmp_path / 'a' / 'work' / 'iter_1.pth')
    with pytest.raises(CheckpointMismatchError, match=r'trained at scale alpha/rank = 1\.0 '
                                                      r'\(lora_cfg\.alpha=None, rank 8'):
        build_runner(other).test()


def test_a_scheduler_state_its_steps_moved_is_no_change():
    """ReduceOnPlateauLR keeps what its steps saw (best, num_bad_epochs...): resumed with the
    same settings it goes on; another patience is refused. Schedulers not built yet (a config,
    as Runner.test() holds them) are not compared."""
    from mmengine.optim.scheduler import ReduceOnPlateauLR
    from mmfrozen.engine.runner.checks import check_scheduler_state
    param = torch.nn.Parameter(torch.zeros(1))

    def plateau(patience):
        return ReduceOnPlateauLR(torch.optim.SGD([param], lr=0.1), monitor='loss',
                                 patience=patience)
    stepped = plateau(0)
    stepped.step({'loss': 1.0})
    stepped.step({'loss': 2.0})
    saved = stepped.state_dict()
    assert saved['best'] == 1.0 and saved['last_step'] == 1
    check_scheduler_state([plateau(0)], [saved], 'epoch_2.pth')
    with pytest.raises(ValueError, match=r'scheduler 0 \(ReduceOnPlateauLR\) has patience=0 in '
                                         r'it and patience=3 in this run'):
        check_scheduler_state([plateau(3)], [saved], 'epoch_2.pth')
    check_scheduler_state([dict(type='ReduceOnPlateauLR', patience=3)], [saved], 'epoch_2.pth')


def test_resume_without_the_schedulers_keeps_the_configured_schedule(tiny_coco, tmp_path):
    """runner.resume(..., resume_param_scheduler=False) asks for the configured schedule, not
    the checkpoint's: a changed one is not refused then; with the schedulers resumed it is."""
    first, moved = _lr_step_at(50), _lr_step_at(1)
    build_runner(_cfg(tiny_coco, tmp_path, first, 1)).train()
    runner = build_runner(_cfg(tiny_coco, tmp_path, moved, 2))
    runner._train_loop = runner.build_train_loop(runner._train_loop)
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    runner.param_schedulers = runner.build_param_scheduler(runner.param_schedulers)
    checkpoint = str(tmp_path / 'work' / 'iter_1.pth')
    runner.resume(checkpoint, resume_param_scheduler=False)
    assert list(runner.param_schedulers[0].milestones) == [1]
    with pytest.raises(ValueError, match='parameter scheduler 0 .*milestones'):
        runner.resume(checkpoint)


def test_resume_of_a_one_cycle_lr_run_goes_on(tiny_coco, tmp_path):
    """A run under mmengine's OneCycleLR (by epoch, converted to iterations, its end not tied to
    max_epochs), resumed with max_epochs extended and the schedule unchanged, goes on (the
    checkpoint loader refused the pickled annealing function of its state before)."""
    one_cycle = [dict(type='OneCycleLR', eta_max=0.02, begin=0, end=3, by_epoch=True,
                      convert_to_iter_based=True)]
    cfg = tiny_frozen_cfg(tiny_coco, tmp_path, val=False, max_epochs=1)
    cfg.param_scheduler = one_cycle
    build_runner(cfg).train()
    again = tiny_frozen_cfg(tiny_coco, tmp_path, val=False, max_epochs=2)
    again.param_scheduler = one_cycle
    again.resume = True
    runner = build_runner(again)
    runner.train()
    assert runner.epoch == 2
