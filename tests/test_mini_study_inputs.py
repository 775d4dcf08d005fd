"""The mini-study's claims and summary on awkward inputs: runs with undefined per-class APs,
duplicated runs of one replicate. Pure functions on synthetic runs; nothing is trained."""
import math

import pytest

from mmfrozen.mini_study.claims import LARGE, SMALL, judge, per_class_points, per_class_rare_effect

_COUNTS = {'a': (2, 'r'), 'b': (8, 'r'), 'c': (50, 'c'), 'd': (200, 'f'), 'e': (800, 'f')}


def _runs(frozen_per_class, ft_ap=20.0):
    return {('frozen', LARGE, 'per_class'): frozen_per_class,
            ('ft', LARGE, 'per_class'): {k: ft_ap for k in _COUNTS},
            ('frozen', LARGE, 'ap'): 22.0, ('ft', LARGE, 'ap'): 20.0,
            ('frozen', SMALL, 'ap'): 18.0, ('ft', SMALL, 'ap'): 20.0}


def test_a_nan_per_class_ap_is_left_out_of_the_regression_not_spread_into_it():
    """A class whose AP is NaN (no instance of it in the validation split, as COCOeval reports
    it) is a class without an AP, like a missing one: the statistic comes from the others."""
    gain = {k: 10 - 3 * math.log(n) for k, (n, _) in _COUNTS.items()}
    with_nan = {k: 20 + g for k, g in gain.items()}
    with_nan['c'] = math.nan
    without = {k: v for k, v in with_nan.items() if k != 'c'}
    expected = per_class_rare_effect(_runs(without), _COUNTS)
    assert expected is not None and math.isfinite(expected)
    assert per_class_rare_effect(_runs(with_nan), _COUNTS) == pytest.approx(expected)
    assert 'c' not in {p[0] for p in per_class_points(_runs(with_nan), _COUNTS)}


def test_a_replicate_without_a_defined_value_is_named_not_dropped_silently():
    """Every class AP of one replicate NaN: the replicate is counted as missing and named, and
    n counts only the replicates that have a value."""
    good = {k: 25.0 - math.log(n) for k, (n, _) in _COUNTS.items()}
    by_rep = {(0, s): _runs(dict(good)) for s in range(3)}
    by_rep[(0, 3)] = _runs({k: math.nan for k in _COUNTS})
    by_rep[(0, 3)][('frozen', LARGE, 'ap')] = math.nan
    claims = {c['claim']: c for c in judge(by_rep, {0: _COUNTS})}
    for key in ('capacity', 'rare'):
        assert claims[key]['n'] == 3
        assert set(claims[key]['per_replicate']) == {'data0-seed0', 'data0-seed1', 'data0-seed2'}
        assert any(m.startswith('data0-seed3') for m in claims[key]['missing']), key


def _result(key, seed, ap, data_seed=0, work_dir=None):
    from mmfrozen.mini_study.results import RunResult
    from mmfrozen.mini_study.variants import VARIANTS
    v = next(x for x in VARIANTS if x.key == key)
    return RunResult(variant=v, seed=seed, work_dir=work_dir or f'/w/{data_seed}/{key}/{seed}',
                     metrics=dict(ap=ap, ap50=ap, apr=ap, apc=ap, apf=ap), sec_per_iter=0.1,
                     trainable_params=30, total_params=100, data_seed=data_seed,
                     evals=[(10, ap), (20, ap)])


def _twins(seeds=(0, 1, 2), data_seed=0, gain=1.0):
    return [_result(f'{mode}-{cap}', s, 20.0 + (gain * (s + 1) if mode == 'frozen' else 0),
                    data_seed) for s in seeds for cap in (SMALL, LARGE) for mode in ('ft', 'frozen')]


def test_two_runs_of_one_replicate_are_refused_not_overwritten():
    """Two frozen runs of one variant, world and seed (e.g. the runs of two study invocations
    gathered together): which one pairs with the twin would be an accident of their order."""
    from mmfrozen.mini_study.results import summarize
    results = _twins() + [_result(f'frozen-{LARGE}', 1, 35.0, work_dir='/elsewhere/run')]
    with pytest.raises(ValueError, match=rf'frozen-{LARGE}.*world 0 seed 1.*/elsewhere/run'):
        summarize(results)


def test_an_undefined_metric_is_named_in_the_twin_difference():
    """A run whose AP is NaN: its replicate is named among the missing, not dropped silently."""
    from mmfrozen.mini_study.results import summarize
    results = _twins()
    results[-1].metrics['ap'] = math.nan  # frozen-LARGE seed 2
    large = next(c for c in summarize(results)['capacity_curve'] if c['capacity'] == LARGE)
    assert large['d_ap']['n'] == 2
    assert any(m.startswith('data0-seed2') for m in large['d_ap']['missing'])


def test_the_capacity_plot_draws_what_is_defined(tmp_path):
    """A decoder whose APr difference is undefined in every replicate (no APr in its runs' logs):
    the plot draws the ΔAP points and leaves that ΔAPr point out (it raised, and the summary is
    written after the plots)."""
    from mmfrozen.mini_study.plots import plot_capacity
    from mmfrozen.mini_study.results import summarize
    results = _twins()
    for r in results:
        if r.variant.capacity == LARGE:
            r.metrics['apr'] = None
    summary = summarize(results)
    large = next(c for c in summary['capacity_curve'] if c['capacity'] == LARGE)
    assert large['d_apr']['mean'] is None and large['d_ap']['n'] == 3
    path = plot_capacity(summary, str(tmp_path / 'capacity.png'))
    with open(path, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    from mmfrozen.mini_study.report import markdown
    text = markdown(summary)
    assert '| n/a | n/a (fewer than 2 replicates) |' in text  # the large decoder's ΔAPr, n 0


def _one_run(tmp_path, aps, nan_from=None):
    """The results of one logged run of the large frozen decoder, and the warnings."""
    from mmfrozen.analysis.results.table import ResultsTable
    from mmfrozen.mini_study.results import run_results
    from mmfrozen.mini_study.variants import VARIANTS

    from .test_analysis.test_results._written_work_dirs import (config_text, training_logs,
                                                                write_session)
    work = str(tmp_path / 'run')
    epochs = len(aps)
    write_session(work, '20261201_100000', config_text('EpochBasedTrainLoop', epochs, 1),
                  'retinanet_r18-frozen_fpn_1x_coco',
                  training_logs('EpochBasedTrainLoop', epochs, per_epoch=20, val_interval=1,
                                aps=aps, interval=5, nan_from=nan_from))
    table = ResultsTable.from_work_dirs([work], params=False)
    record = dict(variant=f'frozen-{LARGE}', seed=0, data_seed=0, work_dir=work)
    (result,), warnings = run_results(table.rows, [record], {v.key: v for v in VARIANTS}, 0.5)
    return result, warnings


def test_a_run_whose_convergence_cannot_be_judged_is_said(tmp_path):
    """A run validated once (its last two validations cannot be compared) is not counted as
    converged, and the warnings say why, as they do for a run that did not converge."""
    result, warnings = _one_run(tmp_path, [0.3])
    assert result.converged(0.5) is None
    assert any(f'frozen-{LARGE} world 0 seed 0' in w and 'convergence' in w for w in warnings)


def test_a_diverged_run_is_said_beside_its_numbers(tmp_path):
    """A run whose loss is non-finite to the end: its numbers enter the study as measured (the
    rule has no exclusion), and the study's warnings name it (only the per-world results table
    did, counted on the console)."""
    result, warnings = _one_run(tmp_path, [0.30, 0.35], nan_from=25)
    assert any(f'frozen-{LARGE} world 0 seed 0' in w and 'diverged' in w for w in warnings)


def test_a_world_without_class_counts_is_named_as_such():
    """Claim 3 of a world whose training counts were not passed: the replicates are missing
    for that reason, not for 'too few classes'."""
    good = {k: 25.0 - math.log(n) for k, (n, _) in _COUNTS.items()}
    by_rep = {(d, s): _runs(dict(good)) for d in (0, 1) for s in range(2)}
    rare = next(c for c in judge(by_rep, {0: _COUNTS}) if c['claim'] == 'rare')
    assert rare['n'] == 2
    assert rare['missing'] == [f'data1-seed{s}: no training counts of world 1\'s classes'
                               for s in range(2)]


def test_the_headline_counts_the_runs_its_means_are_taken_over():
    """A run without an AP: the headline's n for that variant counts the runs with one."""
    from mmfrozen.mini_study.results import summarize
    results = _twins()
    results[2].metrics['ap'] = None  # ft-LARGE seed 0
    (row,) = [h for h in summarize(results)['headline']
              if h['capacity'] == LARGE and h['metric'] == 'ap']
    assert (row['ft']['n'], row['frozen']['n']) == (2, 3)


def test_a_timing_round_without_a_value_is_named():
    """A round of claim 1's timing whose percent change is not finite (a step timed at 0 s):
    the claim's n counts the others and its missing list names the round."""
    cost = next(c for c in judge({}, {}, [-20.0, math.inf, -25.0, -30.0]) if c['claim'] == 'cost')
    assert cost['n'] == 3 and set(cost['per_replicate']) == {'0', '2', '3'}
    assert cost['missing'] == ['round 1: inf']


def test_a_non_finite_interval_is_refused_not_judged():
    """The rule reads an interval's ends; NaN ends compare False with everything and read as
    'smaller than the paper's'."""
    from mmfrozen.mini_study.stats import verdict
    with pytest.raises(ValueError, match='not finite'):
        verdict((math.nan, math.nan), +1, 2.8, 3)


def test_how_each_profile_trains_is_read_from_its_configs_and_said(tmp_path):
    """The config names say 1xb8-450it; the long profile trains 800 x 16 and the quick one
    10 x 8: what the summary and the results tables state is read from the configs the runs
    train with, not from the names, and a scratch backbone's own lr multiplier is named."""
    import os.path as osp

    from mmfrozen.datasets.shapes_detection import ShapesDetection
    from mmfrozen.mini_study.design import FULL, LONG, QUICK
    from mmfrozen.mini_study.detectors import detection_config, trained_schedule
    from mmfrozen.mini_study.report import trained_words
    from mmfrozen.mini_study.variants import VARIANTS

    from .conftest import CONFIGS
    data = ShapesDetection(root=str(tmp_path), classes=('a', 'b'), image_size=128)

    def trained(design, key):
        v = next(v for v in VARIANTS if v.key == key)
        return trained_schedule(detection_config(osp.join(CONFIGS, 'mini_study', v.config),
                                                 data, 'up.pth', str(tmp_path),
                                                 design.run_schedule))
    assert trained(FULL, 'ft-fpn') == dict(
        max_iters=450, batch_size=8, images=3600, warmup_iters=45, val_interval=90, lr=2e-3,
        backbone_lr_mult=0.1, score_thr=0.05)
    assert trained(LONG, 'ft-bifpn-r3') == dict(
        max_iters=800, batch_size=16, images=12800, warmup_iters=80, val_interval=100, lr=2e-3,
        backbone_lr_mult=1.0, score_thr=0.05)
    assert trained(QUICK, 'frozen-fpn')['max_iters'] == 10
    assert trained(QUICK, 'frozen-fpn')['batch_size'] == 8
    words = trained_words({k: trained(LONG, k) for k in ('ft-fpn', 'frozen-fpn')})
    assert words.startswith('800 iterations of 16 images (12800 images seen), warm-up 80')
    words = trained_words({k: trained(FULL, k) for k in ('ft-fpn', 'scratch-fpn')})
    assert '450 iterations of 8 images' in words
    assert words.endswith('; backbone lr 0.1x (ft-fpn); backbone lr 1x (scratch-fpn)')


def test_runs_of_one_variant_that_trained_otherwise_are_named():
    from mmfrozen.mini_study.pipeline import trained_by_variant
    a = dict(max_iters=450, batch_size=8)
    records = [dict(variant='ft-fpn', seed=0, work_dir='s0', trained=a),
               dict(variant='ft-fpn', seed=1, work_dir='s1', trained=dict(a))]
    assert trained_by_variant(records) == ({'ft-fpn': a}, [])
    records.append(dict(variant='ft-fpn', seed=2, work_dir='s2', trained=dict(a, batch_size=16)))
    trained, warnings = trained_by_variant(records)
    assert trained == {'ft-fpn': a} and len(warnings) == 1
    assert 'seed 2 (s2)' in warnings[0] and 'batch_size 16 against 8' in warnings[0]
    assert 'not replicates' in warnings[0]


def test_a_schedule_no_run_could_train_with_is_refused_when_the_design_is_made():
    """A detector batch or interval of 0 was taken (a batch of 0 failed in every run's
    dataloader after the data and upstream stages; an interval of 0 silently kept the
    config's); refused when the design is made."""
    from mmfrozen.mini_study.design import FULL, RunSchedule
    for bad in (dict(detector_batch_size=0), dict(detector_val_interval=0),
                dict(detector_iters=-5), dict(detector_batch_size=8.0),
                dict(backbone_lr_mult=-0.1), dict(score_thr=float('nan'))):
        with pytest.raises(ValueError, match='must be'):
            FULL.with_(**bad)
    with pytest.raises(ValueError, match='batch_size must be'):
        RunSchedule(batch_size=0)
    assert FULL.with_(detector_batch_size=16).run_schedule.batch_size == 16


def test_a_study_of_another_profile_in_the_work_dir_is_refused_not_replaced(tmp_path, capsys):
    """`make demo ARGS=--quick` after `make demo` went to the same work dir: the quick runs
    replaced the default's runs of seeds 0-1 under the same folder names (10 iterations where
    the names and the default's seed 2 say 450), and its summary, report and plots, silently."""
    import json

    from mmfrozen.mini_study.pipeline import main, other_study
    work = tmp_path / 'study'
    assert other_study(str(work), 'quick', [0]) == (None, None)  # nothing there
    work.mkdir()
    summary = work / 'summary.json'
    summary.write_text(json.dumps(dict(profile='default', date='2026-12-05 17:09 UTC',
                                       data_seeds=[0])))
    refusal, note = other_study(str(work), 'quick', [0])
    assert note is None and "profile 'default' (2026-12-05 17:09 UTC)" in refusal
    assert '--work-dir' in refusal
    assert other_study(str(work), 'default', [0]) == (None, None)  # a rerun of that study
    refusal, note = other_study(str(work), 'default', [1])
    assert refusal is None and 'data seed(s) [0]' in note and 'runs under runs/ stay' in note
    assert main(['--quick', '--work-dir', str(work)]) == 2
    assert "holds a mini-study of profile 'default'" in capsys.readouterr().err
    assert sorted(p.name for p in work.iterdir()) == ['summary.json']  # nothing touched
    summary.write_text('{not json')
    assert other_study(str(work), 'quick', [0]) == (None, None)


def test_a_window_of_the_logged_time_ends_at_every_validation_of_every_profile(tmp_path):
    """The training time at a validation is the sum of the logged windows before it; the
    configs log every 15 iterations, which divides the default's 90 but not the long profile's
    100: its validation at iteration 100 was given the time of iteration 90."""
    import os.path as osp

    from mmfrozen.datasets.shapes_detection import ShapesDetection
    from mmfrozen.mini_study.design import FULL, LONG, QUICK
    from mmfrozen.mini_study.detectors import detection_config
    from mmfrozen.mini_study.results import training_seconds
    from mmfrozen.mini_study.variants import VARIANTS

    from .conftest import CONFIGS
    data = ShapesDetection(root=str(tmp_path), classes=('a', 'b'), image_size=128)
    config = osp.join(CONFIGS, 'mini_study', VARIANTS[0].config)
    for design in (FULL, LONG, QUICK):
        cfg = detection_config(config, data, 'up.pth', str(tmp_path), design.run_schedule)
        step, val, last = (cfg.default_hooks.logger.interval, cfg.train_cfg.val_interval,
                           cfg.train_cfg.max_iters)
        assert cfg.log_processor.window_size == step and val % step == 0 and last % step == 0
        seconds = training_seconds([dict(iter=i, time=0.5) for i in range(step, last + 1, step)])
        for it in range(val, last + 1, val):
            assert [s for i, s in seconds if i <= it][-1] == 0.5 * it, (design.profile, it)
    assert FULL.run_schedule == type(FULL.run_schedule)()  # the default keeps the configs' 15
    cfg = detection_config(config, data, 'up.pth', str(tmp_path), FULL.run_schedule)
    assert cfg.default_hooks.logger.interval == 15
