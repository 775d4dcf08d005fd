"""The mini-study: its parts (plan, statistics, claims, summary, cache) and, slow, the quick run
end to end with every artefact checked (never who wins)."""
import json
import math
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config

from mmfrozen.datasets.shapes_detection import ShapesDetection
from mmfrozen.mini_study import QUICK
from mmfrozen.mini_study.design import FULL, LONG
from mmfrozen.mini_study.detectors import detection_config
from mmfrozen.mini_study.claims import judge
from mmfrozen.mini_study.pipeline import parse_args, run_study
from mmfrozen.mini_study.report import markdown
from mmfrozen.mini_study.results import RunResult, summarize, training_seconds
from mmfrozen.mini_study.claims import per_class_rare_effect
from mmfrozen.mini_study.stats import (CONTRADICTED, HELD, INCONCLUSIVE, NOT_JUDGED, SMALLER,
                                       VERDICTS, paired, verdict)
from mmfrozen.mini_study.upstream import export_backbone
from mmfrozen.mini_study.variants import (CAPACITIES, DEFAULT_KEYS, HEADLINE_CAPACITIES,
                                          VARIANTS, plan_runs, select)

from .conftest import CONFIGS


def test_every_variant_config_exists_with_its_twin():
    for v in VARIANTS:
        assert osp.exists(osp.join(CONFIGS, 'mini_study', v.config)), v.config
        if v.mode != 'ft':
            twin = v.config.replace(f'r18-{v.mode}_', 'r18-ft_')
            assert osp.exists(osp.join(CONFIGS, 'mini_study', twin)), twin
    assert {v.capacity for v in select()} == set(CAPACITIES)


def test_plan_runs_seeds_the_headline_twins_and_pairs_twins():
    runs = plan_runs(select(), seeds=3)
    seeds = {}
    for v, s in runs:
        seeds.setdefault(v.key, []).append(s)
    for key in DEFAULT_KEYS:
        cap = key.split('-', 1)[1]
        assert sorted(seeds[key]) == ([0, 1, 2] if cap in HEADLINE_CAPACITIES else [0]), key
    # costliest decoder first; a frozen run right after its fine-tuned twin of the same seed
    assert runs[0][0].capacity == CAPACITIES[-1]
    for (a, sa), (b, sb) in zip(runs[::2], runs[1::2]):
        assert (a.mode, b.mode, a.capacity, sa) == ('ft', 'frozen', b.capacity, sb)


def test_each_profile_trains_its_runs_as_its_design_says(tmp_path):
    """The default trains as the configs say; the long profile as its published run did
    (batches of 16, 800 iterations, a validation every 100, the backbone at the decoder's rate)."""
    data = ShapesDetection(root=str(tmp_path), classes=('a', 'b'), image_size=128)
    config = osp.join(CONFIGS, 'mini_study', VARIANTS[0].config)
    default = detection_config(config, data, 'up.pth', str(tmp_path), FULL.run_schedule)
    assert default.train_dataloader.batch_size == 8 and default.train_cfg.max_iters == 450
    assert default.train_cfg.val_interval == 90
    assert default.optim_wrapper.paramwise_cfg.custom_keys.backbone.lr_mult == 0.1
    long = detection_config(config, data, 'up.pth', str(tmp_path), LONG.run_schedule, seed=2)
    assert long.train_dataloader.batch_size == 16 and long.train_cfg.max_iters == 800
    assert long.train_cfg.val_interval == 100 and long.randomness.seed == 2
    assert long.optim_wrapper.paramwise_cfg.custom_keys.backbone.lr_mult == 1.0
    assert [(s.begin, s.end) for s in long.param_scheduler] == [(0, 80), (80, 800)]
    assert long.model.bbox_head.num_classes == 2


def test_new_weights_learn_at_the_decoders_rate_in_every_variant():
    """A random backbone (scratch) and the residual adapters in a frozen backbone are new
    weights: the decoder's learning rate; only a pretrained backbone's weights learn at 0.1x."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope

    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    rates = {}
    for key in ('ft-fpn', 'frozen-adapters-fpn', 'scratch-fpn'):
        cfg = Config.fromfile(osp.join(CONFIGS, 'mini_study', select([key])[0].config))
        cfg.model.backbone.init_cfg = None
        model = MODELS.build(cfg.model)
        groups = build_optim_wrapper(model, cfg.optim_wrapper).optimizer.param_groups
        names = {id(p): n for n, p in model.named_parameters()}
        lr = {names[id(g['params'][0])]: g['lr'] for g in groups}
        base = cfg.optim_wrapper.optimizer.lr
        rates[key] = {kind: {v / base for n, v in lr.items() if kind(n)} for kind in (
            lambda n: n.startswith('neck.'),
            lambda n: '.adapter.' in n,
            lambda n: n.startswith('backbone.') and '.adapter.' not in n)}
    neck, adapter, backbone = (lambda k: list(rates[k].values()))('frozen-adapters-fpn')
    assert neck == {1.0} and adapter == {1.0}, (neck, adapter)
    assert list(rates['ft-fpn'].values())[2] == {0.1}
    assert list(rates['scratch-fpn'].values())[2] == {1.0}


def test_each_profile_has_its_own_work_dir_unless_one_is_given():
    """`make demo`, then `make demo ARGS="--profile long"` (or `--quick`) as the README gives
    them: each writes to its own folder, so neither replaces the other's runs."""
    assert parse_args([]).work_dir == osp.join('work_dirs', 'mini_study')
    assert parse_args(['--profile', 'long']).work_dir == osp.join('work_dirs', 'mini_study_long')
    assert parse_args(['--quick']).work_dir == osp.join('work_dirs', 'mini_study_quick')
    assert parse_args(['--quick', '--work-dir', 'x']).work_dir == 'x'


def test_bad_arguments_are_refused():
    for argv in (['--seeds', '0'], ['--jobs', '0'], ['--data-seed', '-1'],
                 ['--variants', 'frozen-fpn', 'nonsense'], ['--quick', '--profile', 'long'],
                 ['--profile', 'huge'], ['--device', 'tpu']):
        with pytest.raises(SystemExit):
            parse_args(argv)
    with pytest.raises(ValueError, match='unknown variant'):
        select(['nonsense'])


def test_paired_interval_and_verdict_rule():
    p = paired([1.0, 2.0, 3.0])
    # mean 2, sample std 1, t(0.975, 2) = 4.3027
    assert p.mean == 2.0 and p.std == 1.0 and p.n == 3
    assert p.ci95 == pytest.approx((2 - 4.3027 / math.sqrt(3), 2 + 4.3027 / math.sqrt(3)),
                                   abs=1e-4)
    assert verdict(p.ci95, +1) == INCONCLUSIVE  # the interval contains 0
    tight = paired([1.0, 1.1, 0.9])
    assert verdict(tight.ci95, +1) == HELD and verdict(tight.ci95, -1) == CONTRADICTED
    assert verdict(paired([-1.0, -1.1, -0.9]).ci95, -1) == HELD
    one = paired([5.0, None, float('nan')])
    assert (one.n, one.ci95, verdict(one.ci95, +1)) == (1, None, INCONCLUSIVE)
    with pytest.raises(ValueError):
        verdict((1.0, 2.0), 0)
    # ties whose differences are float noise (sums of rounded metrics) are ties
    assert verdict(paired([-2.7e-15, -1.8e-15, -2.7e-15]).ci95, -1) == INCONCLUSIVE


def test_verdicts_against_the_papers_effect_size():
    # contains 0: smaller than the paper's when the interval excludes its effect, else
    # inconclusive; excluding 0 decides whatever the effect
    assert verdict((-1.0, 2.0), +1, reference=7.2, n=6) == SMALLER
    assert verdict((-1.0, 8.0), +1, reference=7.2, n=6) == INCONCLUSIVE
    assert verdict((0.5, 2.0), +1, reference=7.2, n=6) == HELD
    assert verdict((-9.0, -0.5), +1, reference=7.2, n=6) == CONTRADICTED
    assert verdict((-40.0, 5.0), -1, reference=-33.0, n=6) == INCONCLUSIVE
    assert verdict((-20.0, 5.0), -1, reference=-33.0, n=6) == SMALLER
    # the rule's minimum: two replicates are not judged, however narrow the interval
    assert verdict((1.0, 2.0), +1, reference=7.2, n=2) == NOT_JUDGED
    assert verdict((1.0, 2.0), +1, reference=7.2, n=3) == HELD
    with pytest.raises(ValueError, match='predicted side'):
        verdict((1.0, 2.0), +1, reference=-7.2)
    assert set(VERDICTS) == {HELD, CONTRADICTED, SMALLER, INCONCLUSIVE, NOT_JUDGED}


def test_per_class_statistic_is_the_regressions_rare_minus_frequent_gain():
    import math
    from mmfrozen.mini_study.claims import LARGE
    counts = {'a': (2, 'r'), 'b': (8, 'r'), 'c': (50, 'c'), 'd': (200, 'f'), 'e': (800, 'f')}
    # the gain falls by exactly 3 AP per unit of log(annotations)
    gain = {k: 10 - 3 * math.log(n) for k, (n, _) in counts.items()}
    runs = {('frozen', LARGE, 'per_class'): {k: 20 + g for k, g in gain.items()},
            ('ft', LARGE, 'per_class'): {k: 20.0 for k in counts}}
    rare = (math.log(2) + math.log(8)) / 2
    frequent = (math.log(200) + math.log(800)) / 2
    assert per_class_rare_effect(runs, counts) == pytest.approx(-3 * (rare - frequent))
    # no dependence on the count: no rare-class gain, whatever the level
    flat = {('frozen', LARGE, 'per_class'): {k: 25.0 for k in counts},
            ('ft', LARGE, 'per_class'): {k: 20.0 for k in counts}}
    assert per_class_rare_effect(flat, counts) == pytest.approx(0.0)
    # a class without AP in one twin is left out; too few classes: not measurable
    few = {('frozen', LARGE, 'per_class'): {'a': 1.0, 'd': 2.0},
           ('ft', LARGE, 'per_class'): {'a': 1.0, 'd': 1.0, 'e': 3.0}}
    assert per_class_rare_effect(few, counts) is None


def _result(key, seed, ap, apr, apf, sec, data_seed=0):
    v = next(x for x in VARIANTS if x.key == key)
    return RunResult(variant=v, seed=seed, work_dir=f'/w/{data_seed}/{key}/{seed}',
                     metrics=dict(ap=ap, ap50=ap, apr=apr, apc=ap, apf=apf), sec_per_iter=sec,
                     trainable_params=30 if v.mode == 'frozen' else 100, total_params=100,
                     data_seed=data_seed, per_class=dict(r1=apr, f1=apf, c1=ap),
                     evals=[(10, ap - 0.3), (20, ap)])


_COUNTS = {'r1': (3, 'r'), 'c1': (40, 'c'), 'f1': (300, 'f')}


def test_summary_pairs_seed_by_seed_and_judges_each_claim():
    small, large = HEADLINE_CAPACITIES
    results = []
    for seed, shift in enumerate((0.0, 0.5, -0.5)):
        # frozen: 2 AP worse with the small decoder, 1 better with the large one; on rare classes
        # 3 better with the large decoder, on frequent ones equal; always 0.1 s/iter faster
        results += [_result(f'ft-{small}', seed, 20 + shift, 10, 30, 0.4),
                    _result(f'frozen-{small}', seed, 18 + shift, 10, 28, 0.3),
                    _result(f'ft-{large}', seed, 22 + shift, 10, 30, 0.6 + shift / 10),
                    _result(f'frozen-{large}', seed, 23 + shift + seed / 10, 13, 30,
                            0.5 + shift / 10 + seed / 100)]
    cost = dict(percent_change=[-5.0, 3.0, -2.0, 1.0], ratio_mean=0.99,
                trainable_params=dict(ft=100, frozen=30),
                optimizer_state_bytes=dict(ft=800, frozen=240))
    s = summarize(results, {0: _COUNTS}, cost)
    assert s['variants'][f'ft-{small}']['ap'] == pytest.approx(20.0)
    assert s['variants'][f'ft-{small}']['converged'] == 3  # last two validations 0.3 apart
    assert s['variants'][f'frozen-{small}']['trainable_share'] == pytest.approx(0.3)
    (cap_s, cap_l) = s['capacity_curve']
    assert cap_s['d_ap']['mean'] == pytest.approx(-2.0) and cap_s['d_ap']['std'] == 0
    assert cap_l['d_ap']['mean'] == pytest.approx(1.1)  # +1.0, +1.1, +1.2
    claims = {c['claim']: c for c in s['claims']}
    # claim 1 from the round-robin rounds, not from the runs' logged times
    assert claims['cost']['difference'] == pytest.approx(-0.75)
    assert claims['cost']['verdict'] == SMALLER and claims['cost']['n'] == 4  # excludes -33%
    assert claims['capacity']['difference'] == pytest.approx(3.1)
    assert claims['capacity']['verdict'] == HELD and claims['capacity']['reference'] == 7.2
    # the bucket view (APr gain 3, APf gain 0) beside the per-class regression's (3 classes)
    assert s['rare_by_buckets']['mean'] == pytest.approx(3.0)
    assert claims['rare']['n'] == 3 and claims['rare']['difference'] > 0
    assert {p['cls'] for p in s['per_class']} == {'r1', 'c1', 'f1'}
    assert all(p['annotations'] == _COUNTS[p['cls']][0] for p in s['per_class'])
    text = markdown(s)
    assert '**held**' in text and 'Capacity curve' in text and "smaller than the paper's" in text


def test_replicates_span_worlds_and_a_missing_twin_is_named():
    small, large = HEADLINE_CAPACITIES
    results = []
    for data_seed in (0, 1):
        for seed in (0, 1):
            results += [_result(f'ft-{small}', seed, 20, 10, 30, 0.4, data_seed),
                        _result(f'frozen-{small}', seed, 18, 10, 28, 0.3, data_seed),
                        _result(f'ft-{large}', seed, 22, 10, 30, 0.6, data_seed),
                        _result(f'frozen-{large}', seed, 23 + seed + data_seed, 13, 30, 0.5,
                                data_seed)]
    results = [r for r in results if not (r.data_seed == 1 and r.seed == 1
                                           and r.variant.key == f'ft-{large}')]
    s = summarize(results, {0: _COUNTS, 1: _COUNTS}, None)
    claims = {c['claim']: c for c in s['claims']}
    cap = claims['capacity']
    assert cap['n'] == 3 and set(cap['per_replicate']) == {'data0-seed0', 'data0-seed1',
                                                           'data1-seed0'}
    assert any('data1-seed1' in m and f'ft-{large}' in m for m in cap['missing'])
    assert claims['cost']['verdict'] == NOT_JUDGED and claims['cost']['missing']


def test_a_claim_is_judged_only_on_replicates_that_have_every_run():
    small, large = HEADLINE_CAPACITIES
    by_rep = {(0, 0): {('frozen', large, 'ap'): 25.0, ('ft', large, 'ap'): 20.0,
                       ('frozen', small, 'ap'): 20.0, ('ft', small, 'ap'): 20.0},
              (0, 1): {('frozen', large, 'ap'): 25.0}}
    capacity = next(c for c in judge(by_rep, {}) if c['claim'] == 'capacity')
    assert capacity['per_replicate'] == {'data0-seed0': 5.0}
    assert capacity['verdict'] == NOT_JUDGED
    assert capacity['missing'] == [
        f"data0-seed1: no ap from run(s) ['ft-{small}', 'frozen-{small}', 'ft-{large}']"]


def test_training_seconds_sum_the_logged_windows():
    records = [dict(iter=10, time=0.5), dict(iter=20, time=0.3), dict(iter=25, time=1.0)]
    assert training_seconds(records) == [(10, 5.0), (20, 8.0), (25, 13.0)]


def test_export_backbone_strips_the_prefix_and_loads_into_mmdet_resnet(tmp_path):
    from mmdet.models.backbones import ResNet
    from mmpretrain.models.backbones import ResNet as ClsResNet
    cls = ClsResNet(depth=18, stem_channels=8, base_channels=8)
    state = {f'backbone.{k}': v for k, v in cls.state_dict().items()}
    state['head.fc.weight'] = torch.zeros(3, 64)
    path = export_backbone(state, str(tmp_path / 'b.pth'))
    det = ResNet(depth=18, base_channels=8)
    missing, unexpected = det.load_state_dict(torch.load(path)['state_dict'], strict=False)
    assert not missing and not unexpected
    with pytest.raises(ValueError, match='backbone'):
        export_backbone({'head.fc.weight': torch.zeros(1)}, str(tmp_path / 'x.pth'))


def test_upstream_reads_the_runs_checkpoint_with_the_safe_loader(tmp_path, monkeypatch):
    """The upstream stage reads the classifier run's checkpoint as the package reads any: a
    Runner's checkpoint loads and is exported; one that pickles anything else (code that would
    run while loading) is refused, and nothing of it runs."""
    import os
    import pickle
    from types import SimpleNamespace

    import numpy as np
    from mmengine.logging import HistoryBuffer

    from mmfrozen.mini_study import upstream
    marker = tmp_path / 'ran'

    class Payload:
        def __reduce__(self):  # unpickling it creates the marker file
            return (open, (str(marker), 'w'))

    def run(work_dir, extra):
        def train(cfg, what, progress, verbose):  # writes the checkpoint a Runner would
            buffer = HistoryBuffer()
            buffer.update(1.0)
            ckpt = dict(meta=dict(seed=np.int64(0), **extra), state_dict={
                'backbone.conv1.weight': torch.ones(2), 'head.fc.weight': torch.zeros(1)},
                message_hub=dict(log_scalars={'train/loss': buffer}))
            torch.save(ckpt, osp.join(work_dir, 'iter_1.pth'))
            with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
                f.write(osp.join(work_dir, 'iter_1.pth'))
            return {'accuracy/top1': 50.0}
        os.makedirs(work_dir)
        monkeypatch.setattr(upstream, 'upstream_config', lambda *args, **kwargs: None)
        monkeypatch.setattr(upstream, 'train_and_validate', train)
        return upstream.pretrain_backbone('up.py', SimpleNamespace(classes=['a']), work_dir,
                                          progress=None)

    path, metrics = run(str(tmp_path / 'ok'), {})
    assert list(torch.load(path)['state_dict']) == ['conv1.weight'] and metrics
    with pytest.raises(pickle.UnpicklingError, match=r'iter_1\.pth holds an object of type '
                                                     r'[\w.]*open'):
        run(str(tmp_path / 'payload'), dict(x=Payload()))
    assert not marker.exists()


def test_data_cache_reuses_and_rebuilds(tmp_path):
    from mmfrozen.mini_study.data import data_key, study_data
    design = QUICK.with_(cls_train_per_class=2, cls_val_per_class=1, det_val_per_class=1)
    cls, det, root, reused = study_data(str(tmp_path), design, data_seed=3)
    assert not reused and osp.exists(osp.join(det.root, det.val_ann))
    again = study_data(str(tmp_path), design, data_seed=3)
    assert again[2] == root and again[3] is True and again[1].frequency == det.frequency
    assert data_key(design, 4) != data_key(design, 3)  # another world, another entry
    assert study_data(str(tmp_path), design, data_seed=3, fresh=True)[3] is False
    # an interrupted build (no done.json) is rebuilt, not reused
    import os
    os.remove(osp.join(root, 'done.json'))
    assert study_data(str(tmp_path), design, data_seed=3)[3] is False

    # the upstream key follows the config as trained: iterations, seed, the config file
    from mmfrozen.mini_study.pipeline import UPSTREAM_CONFIG
    from mmfrozen.mini_study.upstream import upstream_key
    config = osp.join(CONFIGS, UPSTREAM_CONFIG)
    key = upstream_key('d', config, cls, 20, 0)
    assert upstream_key('d', config, cls, 20, 0) == key
    assert len({key, upstream_key('d', config, cls, 30, 0), upstream_key('d', config, cls, 20, 1),
                upstream_key('e', config, cls, 20, 0)}) == 4
    edited = tmp_path / 'upstream.py'
    edited.write_text(open(config).read().replace('lr = 0.1', 'lr = 0.05'))
    assert upstream_key('d', str(edited), cls, 20, 0) != key


@pytest.mark.slow
def test_quick_run_produces_every_artefact(tmp_path, capsys, monkeypatch):
    work = tmp_path / 'study'
    summary = run_study(parse_args(['--quick', '--work-dir', str(work), '--data-seed', '7']))
    # data and upstream: in the cache, keyed; the backbone exported without its prefix
    assert osp.exists(osp.join(summary['data_cache'], 'classification', 'train.txt'))
    val = json.load(open(osp.join(summary['data_cache'], 'detection', 'annotations',
                                  'val.json')))
    assert {c['frequency'] for c in val['categories']} == {'r', 'c', 'f'}
    ckpt = torch.load(osp.join(summary['upstream_cache'], 'backbone.pth'), weights_only=False)
    assert ckpt['state_dict'] and not any(k.startswith('backbone.') for k in ckpt['state_dict'])
    assert 0.0 <= summary['upstream_top1'] <= 100.0
    # every planned run ran, logged 5 validations, and is a row of the results table
    runs = plan_runs(select(), QUICK.seeds)
    assert sorted((r['variant'], r['seed']) for r in summary['runs']) == sorted(
        (v.key, s) for v, s in runs)
    table = (work / 'report' / 'world7' / 'results.md').read_text()
    for r in summary['runs']:
        assert r['data_seed'] == 7
        scalars = list((work / 'runs' / 'world7' / r['config'] / f'seed{r["seed"]}').rglob(
            'scalars.json'))
        assert len(scalars) == 1
        evals = [json.loads(line) for line in scalars[0].read_text().splitlines()
                 if 'coco/bbox_mAP' in line]
        assert len(evals) == 5 and all('coco/bbox_APr' in e for e in evals)
        # per-class AP is logged (claim 3's per-class statistic needs it)
        assert any(k.startswith('coco/bbox_') and k.endswith('_precision') for k in evals[-1])
        assert r['config'] in table
    # the results table's differences are paired by seed: no 'mean of N runs' twin
    assert 'mean of' not in table and 'not repeats' not in table
    # frozen runs went through FrozenRunner, which checked the weights against the export
    for r in summary['runs']:
        if r['variant'].startswith('frozen'):
            text = ''.join(p.read_text() for p in
                           (work / 'runs' / 'world7' / r['config']).rglob('*.log'))
            assert re.search(r'frozen parameters (equal|hold) the pretrained checkpoint', text)
    # the summary: its required fields, every variant, the three claims
    saved = json.load(open(work / 'summary.json'))
    assert set(saved['stage_seconds']) == {'data', 'upstream', 'detectors', 'cost', 'report'}
    assert saved['profile'] == 'quick' and saved['data_seeds'] == [7]
    assert saved['premise']['upstream_images'] == 8 * QUICK.cls_train_per_class
    assert saved['premise']['image_ratio'] > 0
    assert set(saved['variants']) == set(DEFAULT_KEYS)
    for key, v in saved['variants'].items():
        assert v['mode'] in ('ft', 'frozen') and len(v['seeds']) >= 1
        assert 0 < v['trainable_share'] <= 1
        for m in ('ap', 'apr', 'apc', 'apf'):
            assert v[m] is None or 0.0 <= v[m] <= 100.0
    frozen = saved['variants']['frozen-fpn']['trainable_share']
    assert frozen < saved['variants']['ft-fpn']['trainable_share'] == 1.0
    assert [c['claim'] for c in saved['claims']] == ['cost', 'capacity', 'rare']
    for c in saved['claims']:
        assert set(c) >= {'claim', 'verdict', 'difference', 'ci95', 'reference', 'half_width',
                          'n', 'quantity', 'missing'}
        assert c['verdict'] in VERDICTS and c['missing'] == []
        # claim 1's replicates are the rounds of the round-robin timing; 2 and 3 have two
        # replicates here, below the rule's minimum: reported, not judged
        assert c['n'] == (QUICK.cost_rounds if c['claim'] == 'cost' else QUICK.seeds)
        if c['claim'] != 'cost':
            assert c['verdict'] == NOT_JUDGED
        assert c['ci95'] is not None and c['ci95'][0] <= c['difference'] <= c['ci95'][1]
    cost = saved['cost']
    assert len(cost['percent_change']) == QUICK.cost_rounds
    assert all(math.isfinite(v) for v in cost['percent_change'])
    assert cost['trainable_params']['frozen'] < cost['trainable_params']['ft']
    # the per-class values behind claim 3, with each class's training annotations
    assert saved['per_class'] and all(p['annotations'] > 0 for p in saved['per_class'])
    assert {p['seed'] for p in saved['per_class']} == set(range(QUICK.seeds))
    assert len(saved['capacity_curve']) == len(CAPACITIES)
    for plot in ('capacity', 'ap_vs_time'):
        assert osp.getsize(saved['plots'][plot]) > 0
    assert '## The paper\'s claims' in (work / 'summary.md').read_text()
    # how the runs trained, read from the configs they trained with (the names say 1xb8-450it),
    # in the summary and in the results table, whose Config column and metafile then give the
    # dumped configs, not the files under configs/ that train otherwise
    for r in saved['runs']:
        assert (r['trained']['max_iters'], r['trained']['batch_size']) == (10, 8), r
    assert saved['schedule']['trained']['ft-fpn']['score_thr'] == 0.0
    # claim 1 timed the twins at the batch their runs trained with
    assert saved['cost']['timing']['batch_size'] == 8
    assert 'Detectors trained 10 iterations of 8 images' in (work / 'summary.md').read_text()
    assert 'The runs trained 10 iterations of 8 images (80 images seen)' in table
    assert 'the Schedule column shows the length and batch the runs trained' in table
    assert '| 1xb8-10it (name: 1xb8-450it) |' in table
    import yaml
    meta = yaml.safe_load((work / 'report' / 'world7' / 'metafile.yml').read_text())
    assert meta['Models'] and all(
        osp.abspath(m['Config']).startswith(str(work / 'runs' / 'world7')) for m in meta['Models'])
    # a second run reuses the data and the upstream backbone, and says so; a failing timing of
    # claim 1 loses none of the trained runs: the report is written, the failure said in it
    import mmfrozen.mini_study.cost as cost_module

    def broken(*args, **kwargs):
        raise RuntimeError('timing broke')
    monkeypatch.setattr(cost_module, 'cost_claim', broken)
    capsys.readouterr()
    again = run_study(parse_args(['--quick', '--work-dir', str(work), '--data-seed', '7',
                                  '--variants', 'ft-bifpn-r3', 'frozen-bifpn-r3', '--seeds',
                                  '1']))
    out = capsys.readouterr().out
    assert 'reused the cached data' in out and 'reused the cached upstream' in out
    assert again['upstream_top1'] == summary['upstream_top1']
    assert 'ERROR: the round-robin timing failed (RuntimeError: timing broke)' in out
    cost_claim = again['claims'][0]
    assert cost_claim['verdict'] == NOT_JUDGED and 'timing broke' in cost_claim['missing'][0]
    assert any('timing broke' in w for w in again['warnings'])
    assert (work / 'summary.json').exists() and len(again['runs']) == 2


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the error without a GPU; '
                    'this machine has one (the GPU run is test_quick_run_on_cuda)')
def test_device_cuda_without_a_gpu_is_refused_before_anything_runs(tmp_path):
    from mmfrozen.mini_study.runner_utils import use_device
    with pytest.raises(RuntimeError, match='--device cuda: torch sees no CUDA device'):
        use_device('cuda')
    with pytest.raises(ValueError, match='device must be one of'):
        use_device('tpu')
    with pytest.raises(RuntimeError, match='--device cuda'):
        run_study(parse_args(['--quick', '--work-dir', str(tmp_path / 's'), '--device', 'cuda']))
    assert not (tmp_path / 's').exists()  # refused before the work dir was made


@pytest.mark.slow
@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU (--device cuda)')
def test_quick_run_on_cuda(tmp_path):
    summary = run_study(parse_args(['--quick', '--work-dir', str(tmp_path / 's'), '--device',
                                    'cuda']))
    assert summary['device'] == 'cuda' and summary['cost']['device'] == 'cuda'
    assert [c['claim'] for c in summary['claims']] == ['cost', 'capacity', 'rare']


def test_the_studys_plots_colour_the_modes_as_every_plot_of_the_package(tmp_path, monkeypatch):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    from mmfrozen.analysis.results.plots import MODE_COLOURS
    from mmfrozen.mini_study.plots import plot_ap_vs_time
    monkeypatch.setattr(plt, 'close', lambda fig=None: None)  # keep the figure to look at it
    small = HEADLINE_CAPACITIES[0]
    results = [_result(f'{m}-{small}', 0, 20, 10, 30, 0.4) for m in ('ft', 'frozen')]
    for r in results:
        r.curve = [(1.0, 5.0), (2.0, 10.0)]
    assert plot_ap_vs_time(results, str(tmp_path / 'p.png'))
    lines = plt.gcf().axes[0].get_lines()
    colours = {line.get_label().split(' ')[0]: to_hex(line.get_color()) for line in lines}
    assert colours == {m: to_hex(MODE_COLOURS[m]) for m in ('ft', 'frozen')}
