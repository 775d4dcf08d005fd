"""The training-cost tool on tiny configs: it runs, its columns are there and consistent."""
import io
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config

import mmfrozen  # noqa: F401
from mmfrozen.config.edits import stock_frozen_stages
from mmfrozen.analysis.cost import plan as plan_module
from mmfrozen.analysis.cost import train_cost
from mmfrozen.analysis.cost.batch import synthetic_batch
from mmfrozen.analysis.cost.measure import (Bench, CostRequest, TensorPeak, build_for_training,
                                            load_config, measure, measure_tensor_peak,
                                            running_peak, time_interleaved)
from mmfrozen.analysis.cost.plan import plan
from mmfrozen.analysis.cost.report import add_ratios, markdown
from mmfrozen.analysis.cost.settings import (parse_precision_variant, training_batch_size,
                                             training_image_size)

from ...conftest import CONFIGS

FT = osp.join(CONFIGS, 'faster_rcnn', 'faster-rcnn_r50-ft_fpn_1x_coco.py')
FROZEN = osp.join(CONFIGS, 'faster_rcnn', 'faster-rcnn_r50-frozen_fpn_1x_coco.py')

# A depth-18 backbone with 8 base channels and 16-channel neck/heads: the real detector code,
# a thousandth of the compute.
TINY_FT = f"""
_base_ = {FT!r}
model = dict(
    backbone=dict(depth=18, base_channels=8),
    neck=dict(in_channels=[8, 16, 32, 64], out_channels=16),
    rpn_head=dict(in_channels=16, feat_channels=16),
    roi_head=dict(bbox_roi_extractor=dict(out_channels=16),
                  bbox_head=dict(in_channels=16, fc_out_channels=32)))
"""
TINY_FROZEN = f"""
_base_ = ['./faster-rcnn_r18tiny-ft_fpn_1x_coco.py', {osp.join(CONFIGS, '_base_',
                                                                'freeze_backbone.py')!r}]
"""
MB = 1024.0 * 1024.0


@pytest.fixture(scope='module')
def tiny_configs(tmp_path_factory):
    root = tmp_path_factory.mktemp('cost_configs')
    ft = root / 'faster-rcnn_r18tiny-ft_fpn_1x_coco.py'
    frozen = root / 'faster-rcnn_r18tiny-frozen_fpn_1x_coco.py'
    ft.write_text(TINY_FT)
    frozen.write_text(TINY_FROZEN)
    return str(ft), str(frozen)


def test_training_settings_and_variants_from_the_config():
    cfg = Config.fromfile(FT)
    assert training_image_size(cfg) == (800, 1333)  # Resize scale=(1333, 800) is (w, h)
    assert training_batch_size(cfg) == cfg.train_dataloader.batch_size
    lsj = Config.fromfile(FT)
    lsj.train_dataloader.dataset.pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='RandomResize', scale=(1024, 1024), ratio_range=(0.1, 2.0), keep_ratio=True),
        dict(type='RandomCrop', crop_size=(512, 1024), crop_type='absolute_range')]
    assert training_image_size(lsj) == (1024, 1024)
    lsj.train_dataloader.dataset.pipeline[-1] = dict(type='RandomCrop', crop_size=(512, 768))
    assert training_image_size(lsj) == (512, 768)
    lsj.model.data_preprocessor.batch_augments = [dict(type='BatchFixedSizePad', size=(640, 800))]
    assert training_image_size(lsj) == (640, 800)
    stock = stock_frozen_stages(Config.fromfile(FT))
    assert stock.model.backbone.frozen_stages == 4 and stock.model.backbone.norm_eval
    with pytest.raises(ValueError, match='fine-tuned config'):
        stock_frozen_stages(Config.fromfile(FROZEN))
    assert parse_precision_variant('bf16-cl') == ('bf16', True)
    assert parse_precision_variant('fp16') == ('fp16', False)
    for bad in ('fp32', 'int8', 'bf16-nhwc'):
        with pytest.raises(ValueError):
            parse_precision_variant(bad)


def test_requested_size_replaces_the_fixed_size_pad():
    lsj = osp.join(CONFIGS, 'cascade_rcnn', 'cascade-rcnn_r50-frozen_nasfpn_lsj-600e_coco.py')
    assert training_image_size(Config.fromfile(lsj)) == (1024, 1024)
    cfg, mode = load_config(CostRequest(lsj, image_size=(96, 128)))
    assert mode == 'frozen' and cfg.model.backbone.init_cfg is None
    assert [a['size'] for a in cfg.model.data_preprocessor.batch_augments
            if a['type'] == 'BatchFixedSizePad'] == [(96, 128)]


def test_plan(tiny_configs):
    ft, frozen = tiny_configs
    planned = plan([frozen], twin=True, stock=True, frozen_precision=['bf16-cl'],
                              image_size=(64, 64))
    assert [r.label for _, r in planned] == [
        'ft-twin', 'stock-frozen-stages', 'as-config', 'limit', 'frozen-bf16-cl',
        'limit-bf16-cl']
    assert [r.config for _, r in planned][:2] == [ft, ft]
    assert all(r.image_size == (64, 64) and r.batch_size == 2 for _, r in planned)
    assert {g for g, _ in planned} == {'faster-rcnn_r18tiny-frozen_fpn_1x_coco'}
    assert [r.label for _, r in plan([ft])] == ['as-config']  # no limit for ft
    with pytest.raises(ValueError, match='is not frozen'):
        plan([ft], frozen_precision=['bf16'])
    with pytest.raises(FileNotFoundError, match='config not found'):
        plan([ft + '.missing'])


def test_build_matches_the_frozen_runner_and_reduced_precision_stays_close(tiny_configs):
    """The tool's model is frozen by mmfrozen; a bf16 channels-last backbone changes features
    only by bf16 rounding and hands float32 to the neck."""
    _, frozen = tiny_configs
    data = synthetic_batch(2, (64, 64), num_classes=80)
    feats = {}
    for precision in ('fp32', 'bf16'):
        cfg, mode = load_config(CostRequest(frozen, precision=precision, channels_last=True))
        assert mode == 'frozen'
        torch.manual_seed(0)
        model, optim_wrapper, hooks = build_for_training(cfg, 'cpu')
        assert [s.precision for h in hooks for s in h.specs] == [precision]
        assert not any(p.requires_grad for p in model.backbone.parameters())
        held = {id(p) for g in optim_wrapper.optimizer.param_groups for p in g['params']}
        assert held == {id(p) for p in model.parameters() if p.requires_grad}
        assert model.backbone.conv1.weight.is_contiguous(memory_format=torch.channels_last)
        model.train()
        inputs = model.data_preprocessor(data, True)['inputs']
        feats[precision] = model.backbone(inputs)
        assert all(f.dtype == torch.float32 and f.grad_fn is None for f in feats[precision])
    for a, b in zip(feats['fp32'], feats['bf16']):
        rel = (a - b).norm() / a.norm()
        assert 0 < rel < 0.05, rel  # differs (bf16 really ran), but only by rounding


@pytest.mark.slow
def test_cost_tool_on_tiny_twins(tiny_configs, tmp_path, capsys):
    """Six variants, each measured in two fresh processes (peak RSS, then tensor peak): ft twin,
    stock frozen_stages, ours, its limit, bf16."""
    ft, frozen = tiny_configs
    out = tmp_path / 'cost.json'
    train_cost.main([frozen, '--twin', '--stock', '--frozen-precision', 'bf16-cl',
                     '--image-size', '64', '64', '--batch-size', '2', '--iters', '2',
                     '--warmup', '1', '--threads', '1', '--out', str(out)])
    stdout = capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert set(doc) >= {'machine', 'date', 'torch', 'results'}
    assert doc['torch'] == torch.__version__
    rows = {r['variant']: r for r in doc['results']}
    assert set(rows) == {'ft-twin', 'stock-frozen-stages', 'as-config', 'limit',
                         'frozen-bf16-cl', 'limit-bf16-cl'}
    for r in rows.values():
        for key, kind in (('config', str), ('mode', str), ('device', str), ('batch_size', int),
                          ('image_size', list), ('sec_per_iter', float),
                          ('peak_memory_mb', float), ('trainable_params', int),
                          ('total_params', int), ('optimizer_state_mb', float)):
            assert isinstance(r[key], kind), (r['variant'], key)
        assert r['device'] == 'cpu' and r['batch_size'] == 2 and r['image_size'] == [64, 64]
        assert r['threads'] == 1 and r['timing'] == 'interleaved' and r['iters'] == 2
        assert len(r['sec_per_iter_all']) == 2 and r['sec_per_iter_isolated'] > 0
        assert r['sec_per_iter'] > 0 and r['peak_memory_mb'] > 0
        # from one more fresh process per row, running the same steps under the profiler
        assert isinstance(r['peak_tensor_mb'], float) and r['peak_tensor_mb'] > 0
        assert 0 < r['tensor_mb_after_steps'] <= r['peak_tensor_mb']
        assert r['tensor_peak_all_frees_seen'] is True
        # one SGD momentum buffer (float32) per trainable parameter, nothing for frozen ones
        assert r['optimizer_state_mb'] * MB == pytest.approx(r['trainable_params'] * 4)
        assert f"| {r['config']} | {r['variant']} |" in stdout

    ft_row, ours, stock = rows['ft-twin'], rows['as-config'], rows['stock-frozen-stages']
    assert ft_row['config'] == osp.splitext(osp.basename(ft))[0]
    assert ours['config'] == osp.splitext(osp.basename(frozen))[0]
    assert (ft_row['mode'], ours['mode'], stock['mode']) == ('ft', 'frozen', 'frozen')
    assert (ours['freezing'], stock['freezing'], ft_row['freezing']) == (
        'mmfrozen', 'mmdet frozen_stages', 'none')
    assert len({r['total_params'] for r in rows.values()}) == 1
    assert ours['trainable_params'] < ft_row['trainable_params']
    assert ours['trainable_params'] == stock['trainable_params'] == rows[
        'frozen-bf16-cl']['trainable_params']
    assert ft_row['backbone_optimizer_state_mb'] > 0
    for frozen_row in (ours, stock, rows['frozen-bf16-cl'], rows['limit']):
        assert frozen_row['backbone_optimizer_state_mb'] == 0
        assert frozen_row['optimizer_state_mb'] < ft_row['optimizer_state_mb']

    # FLOPs: the same forward; backward 2x forward of every component with trainable params
    for r in (ft_row, ours, stock):
        f = r['flops']
        assert r['train_flops'] == f['forward'] + f['backward']
        assert sum(f['forward_by_component'].values()) <= f['forward']
    parts = ours['flops']['forward_by_component']
    assert ours['flops']['backward'] == 2 * (sum(parts.values()) - parts['backbone'])
    assert ft_row['flops']['backward'] == 2 * sum(ft_row['flops']['forward_by_component'].values())
    assert ours['train_flops'] < ft_row['train_flops']
    assert ours['ratios']['flops_vs_ft'] == pytest.approx(
        ours['train_flops'] / ft_row['train_flops'])

    # the limit is its parts; ratios are the quotients of the rows of this one run
    for name in ('limit', 'limit-bf16-cl'):
        limit = rows[name]
        assert limit['train_flops'] is None
        assert limit['sec_per_iter'] == pytest.approx(sum(limit['limit_parts_sec'].values()))
        assert set(limit['limit_parts_sec']) == {'preprocess', 'backbone_no_grad',
                                                 'trainable_step'}
    q = ours['ratios']
    assert q['time_vs_ft'] == pytest.approx(ours['sec_per_iter'] / ft_row['sec_per_iter'])
    assert q['time_vs_stock'] == pytest.approx(ours['sec_per_iter'] / stock['sec_per_iter'])
    assert q['time_vs_limit'] == pytest.approx(ours['sec_per_iter'] /
                                               rows['limit']['sec_per_iter'])
    assert q['memory_vs_ft'] == pytest.approx(ours['peak_memory_mb'] / ft_row['peak_memory_mb'])
    assert q['tensor_memory_vs_stock'] == pytest.approx(
        ours['peak_tensor_mb'] / stock['peak_tensor_mb'])
    assert (f"| {ours['peak_memory_mb']:.0f} | {ours['peak_tensor_mb']:.0f} "
            f"| {q['memory_vs_ft']:.2f} | {q['memory_vs_stock']:.3f} / "
            f"{q['tensor_memory_vs_stock']:.3f} |") in stdout
    assert rows['frozen-bf16-cl']['ratios']['time_vs_limit'] == pytest.approx(
        rows['frozen-bf16-cl']['sec_per_iter'] / rows['limit-bf16-cl']['sec_per_iter'])
    assert rows['frozen-bf16-cl']['precision'] == 'bf16-cl' and ours['precision'] == 'fp32'
    assert 'time_vs_ft' not in ft_row['ratios']


def test_tensor_peak_is_the_peak_of_live_tensor_bytes():
    """Allocations and frees inside the window are summed in time order; a tensor freed before
    the next is allocated does not accumulate; one from before the window is not seen."""
    assert running_peak([5, -5, 3, 4, -7, 2]) == (7, 2)
    assert running_peak([-3, 2]) == (0, -1)
    before = torch.ones(2 ** 20)  # 4 MB, allocated before the window, freed in it
    tracker = TensorPeak()
    tracker.start()
    for _ in range(5):
        x = torch.empty(16 * 2 ** 20, dtype=torch.uint8)
        del x
    kept = torch.empty(3 * 2 ** 20, dtype=torch.uint8)
    del before
    peak, end = tracker.stop()
    assert (peak, end) == (16 * 2 ** 20, 3 * 2 ** 20)
    assert kept.numel() == 3 * 2 ** 20


def test_tensor_peak_window_sees_frees_of_tensors_from_after_start():
    """With the profiler started before a tensor is allocated and the window begun after, the
    window's free of it is seen: the figures are above the window's start, exact."""
    tracker = TensorPeak()
    tracker.start()
    built = torch.empty(8 * 2 ** 20, dtype=torch.uint8)  # built with the bench, freed by a step
    tracker.begin()
    del built
    x = torch.empty(10 * 2 ** 20, dtype=torch.uint8)
    peak, end = tracker.stop()
    assert (peak, end) == (2 * 2 ** 20, 2 * 2 ** 20)
    assert x.numel() == 10 * 2 ** 20


def test_tensor_peak_refuses_to_start_inside_another_profiler():
    """A second profiling session would replace the running one (which then ends empty)."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True):
        with pytest.raises(RuntimeError, match='already running'):
            TensorPeak().start()
        x = torch.empty(2 ** 20, dtype=torch.uint8)
    assert x.numel() == 2 ** 20


def test_a_failed_tensor_peak_measurement_stops_the_profiler(tiny_configs, monkeypatch):
    """A step that raises leaves no profiler running (which would refuse the next start)."""
    _, frozen = tiny_configs

    def fail(self, i, data=None):
        raise ValueError('a failing step')

    monkeypatch.setattr(Bench, 'step', fail)
    with pytest.raises(ValueError, match='a failing step'):
        measure(CostRequest(frozen, image_size=(64, 64), iters=1, warmup=0, flops=False,
                            threads=1, tensor_peak=True))
    assert not torch._C._autograd._profiler_enabled()


def test_tensor_peak_sees_a_step_free_a_tensor_built_with_the_bench(tiny_configs, monkeypatch):
    """measure() starts the profiler before it builds the bench: a step's free of a tensor the
    bench built (as a sweep's first step does) lowers the live bytes instead of being missed."""
    from mmfrozen.analysis.cost import measure as measure_module
    _, frozen = tiny_configs
    request = CostRequest(frozen, image_size=(64, 64), iters=1, warmup=1, flops=False,
                          threads=1, tensor_peak=True)
    plain = measure(request)
    n_mb = 32

    class FreeingBench(Bench):
        def __init__(self, request):
            super().__init__(request)
            self.scratch = torch.empty(n_mb * 2 ** 20, dtype=torch.uint8)

        def step(self, i, data=None):
            self.scratch = None
            return super().step(i, data)

    monkeypatch.setattr(measure_module, 'Bench', FreeingBench)
    freed = measure(request)
    assert freed['tensor_mb_after_steps'] == pytest.approx(
        plain['tensor_mb_after_steps'] - n_mb, abs=0.01)
    assert freed['peak_tensor_mb'] == pytest.approx(max(0.0, plain['peak_tensor_mb'] - n_mb),
                                                    abs=0.01)


def test_run_request_says_when_the_profiler_missed_a_free(monkeypatch):
    """The allocator's warning of a free it has no size for is on the measuring process's
    stderr, which the tool does not show: the result says it (the figure is an upper bound)."""
    import subprocess

    levels = []

    def fake_run(cmd, **kwargs):
        levels.append(kwargs['env'].get('TORCH_CPP_LOG_LEVEL'))
        with open(cmd[-1], 'w') as f:
            json.dump(dict(variant='as-config', peak_tensor_mb=1.0,
                           tensor_mb_after_steps=0.5), f)
        return subprocess.CompletedProcess(cmd, 0, '', stderr)

    monkeypatch.setattr(plan_module.subprocess, 'run', fake_run)
    monkeypatch.setenv('TORCH_CPP_LOG_LEVEL', 'ERROR')  # would hide the warning
    request = CostRequest('x.py', tensor_peak=True)
    for stderr, seen in (('', True), ('[W CPUAllocator.cpp:245] Memory block of unknown size '
                                      'was allocated before the profiling started', False)):
        assert plan_module.run_request(request)['tensor_peak_all_frees_seen'] is seen
    assert 'tensor_peak_all_frees_seen' not in plan_module.run_request(
        CostRequest('x.py', tensor_peak=False))
    assert levels == ['WARNING', 'WARNING', 'ERROR']


def test_the_memory_figures_say_over_how_many_steps(monkeypatch):
    """Under interleaved timing the memory processes (peak RSS, tensor peak) run 1 warm-up + 1
    step while the row's iters and warmup are the timing's: the row says both."""
    seen = []

    def fake(request):
        if isinstance(request, list):
            return {r.label: dict(sec_per_iter=1.0) for r in request}
        seen.append((request.tensor_peak, request.warmup, request.iters))
        if request.tensor_peak:
            return dict(variant=request.label, peak_tensor_mb=2.0, tensor_mb_after_steps=1.0)
        return dict(config='c', variant=request.label, mode='ft', freezing='none',
                    precision=None, device='cpu', batch_size=2, image_size=[64, 64],
                    sec_per_iter=1.0, peak_memory_mb=3.0, peak_tensor_mb=None,
                    trainable_params=1, total_params=1, optimizer_state_mb=0.0,
                    backbone_optimizer_state_mb=0.0, train_flops=None, iters=request.iters,
                    warmup=request.warmup)

    monkeypatch.setattr(plan_module, 'run_request', fake)
    planned = [('c', CostRequest('c.py', iters=3, warmup=2))]
    (row,) = plan_module.run(planned, log=io.StringIO())['results']
    assert seen == [(False, 1, 1), (True, 1, 1)]
    assert (row['iters'], row['warmup'], row['memory_steps']) == (3, 2, 2)
    (row,) = plan_module.run(planned, timing='isolated', log=io.StringIO())['results']
    assert (row['iters'], row['warmup'], row['memory_steps']) == (3, 2, 5)


def test_tensor_peak_of_the_measured_steps(tiny_configs):
    """In the tool's steps: an allocation of N MB inside every step raises the peak by at least
    N MB and, freed in the step, not more than once; kept across the steps, it accumulates.
    What the steps leave alive is mostly the optimizer's momentum, created in the first step."""
    _, frozen = tiny_configs
    n_mb = 64
    request = CostRequest(frozen, image_size=(64, 64), iters=2, warmup=1, flops=False,
                          threads=1, tensor_peak=True)
    plain = measure(request)
    assert set(plain) == {'variant', 'peak_tensor_mb', 'tensor_mb_after_steps'}
    assert 0 < plain['peak_tensor_mb'] < n_mb / 4  # the tiny model's own peak
    results = {}
    for keep in (False, True):
        bench = Bench(request)
        held = []

        def allocate(module, args, output, held=held, keep=keep):
            block = torch.empty(n_mb * 2 ** 20, dtype=torch.uint8)
            if keep:
                held.append(block)

        bench.model.neck.register_forward_hook(allocate)
        results[keep] = measure_tensor_peak(bench)
        momentum = sum(t.numel() * t.element_size()
                       for state in bench.optim_wrapper.optimizer.state.values()
                       for t in state.values() if isinstance(t, torch.Tensor)) / MB
        assert momentum > 0
        if not keep:  # the momentum and little else (the last step's few small tensors)
            assert momentum <= results[keep]['tensor_mb_after_steps'] < momentum + 0.1
    freed, kept = results[False], results[True]
    assert n_mb <= freed['peak_tensor_mb'] < n_mb + plain['peak_tensor_mb'] + 1
    assert kept['peak_tensor_mb'] >= 3 * n_mb
    assert kept['tensor_mb_after_steps'] == pytest.approx(
        freed['tensor_mb_after_steps'] + 3 * n_mb, rel=0.01)


def _tiny_sweep(tiny_configs):
    """A sweep of the tiny frozen config at two learning rates."""
    _, frozen = tiny_configs
    path = osp.join(osp.dirname(frozen), 'faster-rcnn-sweep_r18tiny-frozen_fpn-lr2_1x_coco.py')
    with open(path, 'w') as f:
        f.write(f"""
_base_ = {frozen!r}
model = dict(_delete_=True, type='DetectorSweep', members=dict(
    lr02={frozen!r},
    lr01=dict(config={frozen!r}, cfg_options={{'optim_wrapper.optimizer.lr': 0.01}})))
optim_wrapper = dict(
    _delete_=True, type='SweepOptimWrapper', constructor='SweepOptimWrapperConstructor')
val_evaluator = dict(_delete_=True, type='SweepMetric', metric={{{{_base_.val_evaluator}}}})
""")
    return path


def test_plan_of_a_sweep(tiny_configs):
    _, frozen = tiny_configs
    sweep = _tiny_sweep(tiny_configs)
    planned = plan([sweep], image_size=(64, 64))
    assert [r.label for _, r in planned] == ['sweep', 'sweep-limit', 'member-lr01', 'member-lr02']
    assert [r.config for _, r in planned] == [sweep, sweep, frozen, frozen]
    assert planned[2][1].cfg_options == {'optim_wrapper.optimizer.lr': 0.01}
    assert planned[1][1].limit and not planned[1][1].flops
    with pytest.raises(ValueError, match='is a sweep'):
        plan([sweep], twin=True)
    cfg, mode = load_config(CostRequest(sweep, image_size=(64, 64)))
    assert mode == 'frozen' and cfg.model.backbone.init_cfg is None  # expanded, then disabled


@pytest.mark.slow
def test_cost_tool_on_a_tiny_sweep(tiny_configs, tmp_path, capsys, monkeypatch):
    """The sweep, its limit and its two members alone, each measured, then all four timed
    interleaved; the sweep's ratios are quotients of those rows (one run of the tool).

    The measurements run in this process: the code a fresh measurement process runs is the same
    (:func:`measure`, :func:`time_interleaved`, results through JSON), and the fresh processes
    themselves are tested by ``test_cost_tool_on_tiny_twins``; this saves five interpreter
    start-ups (about 60 s of CPU). Peak memory is only meaningful in a fresh process (here the
    allocator reuses what earlier tests freed), so the memory ratios are checked on given rows
    in ``test_sweep_ratios``.
    """
    def in_process(request):
        result = time_interleaved(request) if isinstance(request, list) else measure(request)
        return json.loads(json.dumps(result))

    monkeypatch.setattr(plan_module, 'run_request', in_process)
    sweep = _tiny_sweep(tiny_configs)
    out = tmp_path / 'cost.json'
    train_cost.main([sweep, '--image-size', '64', '64', '--batch-size', '2', '--iters', '1',
                     '--warmup', '1', '--out', str(out)])
    stdout = capsys.readouterr().out
    rows = {r['variant']: r for r in json.loads(out.read_text())['results']}
    assert all(r['timing'] == 'interleaved' and r['sec_per_iter'] > 0 for r in rows.values())
    assert set(rows) == {'sweep', 'sweep-limit', 'member-lr01', 'member-lr02'}
    s, limit, a, b = (rows[k] for k in ('sweep', 'sweep-limit', 'member-lr01', 'member-lr02'))
    # one backbone, two members' necks and heads
    assert a['total_params'] == b['total_params']
    assert s['trainable_params'] == a['trainable_params'] + b['trainable_params']
    backbone = a['total_params'] - a['trainable_params']
    assert s['total_params'] == backbone + 2 * a['trainable_params']
    assert s['optimizer_state_mb'] == pytest.approx(a['optimizer_state_mb'] * 2)
    assert s['backbone_optimizer_state_mb'] == 0
    assert set(limit['limit_parts_sec']) == {'preprocess', 'backbone_no_grad', 'trainable_step'}
    q = s['ratios']
    assert q['time_vs_limit'] == pytest.approx(s['sec_per_iter'] / limit['sec_per_iter'])
    assert q['time_vs_member'] == pytest.approx(s['sec_per_iter'] / a['sec_per_iter'])
    assert q['time_vs_separate'] == pytest.approx(
        s['sec_per_iter'] / (a['sec_per_iter'] + b['sec_per_iter']))
    # FLOPs: the backbone forward once in the sweep, once per member alone
    assert s['flops']['forward_by_component']['backbone'] == a['flops'][
        'forward_by_component']['backbone']
    assert q['flops_vs_separate'] < 1
    assert s['separate']['members'] == ['lr01', 'lr02']
    assert '| faster-rcnn-sweep_r18tiny-frozen_fpn-lr2_1x_coco | 2: lr01, lr02 |' in stdout


def test_sweep_ratios():
    """The sweep's ratios from its rows: members separately = the sum of their steps, and of
    their peaks (side by side) or the largest peak (one after another)."""
    def row(variant, sec, mb, flops):
        return dict(group='g', variant=variant, mode='frozen', freezing='mmfrozen',
                    sec_per_iter=sec, peak_memory_mb=mb, train_flops=flops,
                    trainable_params=1)
    rows = [row('sweep', 5.0, 600.0, 50.0), row('sweep-limit', 4.8, 0.0, None),
            row('member-a', 2.0, 300.0, 20.0), row('member-b', 4.0, 500.0, 40.0)]
    q = add_ratios(rows)[0]['ratios']
    assert rows[0]['separate'] == dict(members=['a', 'b'], sec_per_iter=6.0,
                                       peak_memory_mb_max=500.0, peak_memory_mb_sum=800.0,
                                       train_flops=60.0)
    assert q == pytest.approx(dict(
        time_vs_limit=5.0 / 4.8, time_vs_member=5.0 / 2.0, time_vs_separate=5.0 / 6.0,
        memory_vs_member=600.0 / 300.0, memory_vs_separate_max=600.0 / 500.0,
        memory_vs_separate_sum=600.0 / 800.0, flops_vs_separate=50.0 / 60.0))
    table = markdown([dict(r, config='c', precision=None, total_params=1,
                           optimizer_state_mb=0.0, backbone_optimizer_state_mb=0.0)
                      for r in rows])
    assert '| 2: a, b | 5.000 | 1.042 | 2.50 | **0.83** | 6.000 | 600 | - | 2.00 / - ' in table
    # with the tensor peaks (the cost tool's default), their ratios beside the RSS ones
    for r, tensors in zip(rows, (150.0, None, 100.0, 120.0)):
        r['peak_tensor_mb'] = tensors
    q = add_ratios(rows)[0]['ratios']
    assert (q['tensor_memory_vs_member'], q['tensor_memory_vs_separate_max'],
            q['tensor_memory_vs_separate_sum']) == pytest.approx((1.5, 1.25, 150.0 / 220.0))
    assert rows[0]['separate']['peak_tensor_mb_sum'] == 220.0
    table = markdown([dict(r, config='c', precision=None, total_params=1,
                           optimizer_state_mb=0.0, backbone_optimizer_state_mb=0.0)
                      for r in rows])
    assert '| 600 | 150 | 2.00 / 1.50 | 1.20 / 1.25 | 0.75 / 0.68 | 0.83 |' in table


def _tiny_ema_configs(tiny_configs):
    """The tiny ft and frozen configs with mmdet's YOLOX/RTMDet EMA."""
    paths = []
    for base in tiny_configs:
        path = base.replace('_1x_coco.py', '-ema_1x_coco.py')
        hooks = list(Config.fromfile(base).get('custom_hooks', [])) + [dict(
            type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0002, update_buffers=True,
            priority=49)]
        with open(path, 'w') as f:
            f.write(f'_base_ = {base!r}\ncustom_hooks = {[dict(h) for h in hooks]!r}\n')
        paths.append(path)
    return paths


def test_ema_in_the_measured_step_copied_or_sharing_the_frozen_tensors(tiny_configs):
    from mmfrozen.analysis.cost.measure import Bench
    ft, frozen = _tiny_ema_configs(tiny_configs)
    assert [r.label for _, r in plan([frozen], image_size=(64, 64))] == [
        'as-config', 'ema-copy', 'limit']
    assert [r.label for _, r in plan([ft], image_size=(64, 64))] == ['as-config']
    benches, rows = {}, {}
    for label, share in (('as-config', True), ('ema-copy', False)):
        request = CostRequest(frozen, label, image_size=(64, 64), iters=1, warmup=1,
                              flops=False, ema_share=share)
        bench = benches[label] = Bench(request)
        model, ema_model = bench.model, bench.ema.ema_model
        frozen_state = {n: t for n, t in model.state_dict(keep_vars=True).items()
                        if n.startswith('backbone.')}
        theirs = ema_model.module.state_dict(keep_vars=True)
        assert all((theirs[n] is t) == share for n, t in frozen_state.items())
        before = ema_model.steps.item()
        bench.step(0)  # the EMA update is in the measured step
        assert ema_model.steps.item() == before + 1
        rows[label] = dict(measure(request), group='g')
        assert 0 < rows[label]['ema_update_sec'] < rows[label]['sec_per_iter']
    shared, copied = rows['as-config']['ema'], rows['ema-copy']['ema']
    assert shared['type'] == copied['type'] == 'ExpMomentumEMA'
    assert shared['shares_frozen'] and not copied['shares_frozen']
    model = benches['as-config'].model
    backbone = {n: t for n, t in model.state_dict().items() if n.startswith('backbone.')}
    assert shared['shared_tensors'] == len(backbone) and copied['shared_tensors'] == 0
    backbone_mb = sum(t.numel() * t.element_size() for t in backbone.values()) / MB
    assert shared['shared_mb'] == pytest.approx(backbone_mb)
    # the copy holds the whole model; shared, only what is not frozen (and its step counter)
    assert copied['ema_model_mb'] - shared['ema_model_mb'] == pytest.approx(backbone_mb)
    assert copied['averaged_tensors'] - shared['averaged_tensors'] == len(backbone)
    # tensor peaks as the cost tool's separate process adds them (not measured here)
    rows['as-config']['peak_tensor_mb'], rows['ema-copy']['peak_tensor_mb'] = 200.0, 250.0
    add_ratios(list(rows.values()))
    table = markdown(list(rows.values()))
    assert f"| ExpMomentumEMA | {len(backbone)} ({backbone_mb:.1f}) |" in table
    rss = rows['as-config']['ratios']['memory_vs_ema_copy']  # None: no RSS peak in-process
    assert f"| 200 | {'-' if rss is None else format(rss, '.3f')} / 0.800 |" in table
    assert rows['as-config']['ratios']['time_vs_ema_copy'] == pytest.approx(
        rows['as-config']['sec_per_iter'] / rows['ema-copy']['sec_per_iter'])
    limit = measure(CostRequest(frozen, 'limit', image_size=(64, 64), iters=1, warmup=0,
                                flops=False, limit=True))
    assert limit['ema']['shares_frozen'] and limit['limit_parts_sec']['ema_update'] > 0
    assert limit['sec_per_iter'] == pytest.approx(sum(limit['limit_parts_sec'].values()))
