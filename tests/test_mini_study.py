"""The mini-study: its parts (plan, statistics, claims, summary, cache) and, slow, the quick run
end to end with every artefact checked (never who wins)."""
import json
import math
import os.path as osp
import re

import pytest
import torch

from mmfrozen.mini_study import QUICK
from mmfrozen.mini_study.claims import judge
from mmfrozen.mini_study.pipeline import parse_args, run_study
from mmfrozen.mini_study.report import markdown, summarize, training_seconds, RunResult
from mmfrozen.mini_study.stats import CONTRADICTED, HELD, INCONCLUSIVE, paired, verdict
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


def test_bad_arguments_are_refused():
    for argv in (['--seeds', '0'], ['--jobs', '0'], ['--data-seed', '-1'],
                 ['--variants', 'frozen-fpn', 'nonsense']):
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


def _result(key, seed, ap, apr, apf, sec):
    v = next(x for x in VARIANTS if x.key == key)
    return RunResult(variant=v, seed=seed, work_dir=f'/w/{key}/{seed}',
                     metrics=dict(ap=ap, ap50=ap, apr=apr, apc=ap, apf=apf), sec_per_iter=sec,
                     trainable_params=30 if v.mode == 'frozen' else 100, total_params=100)


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
    s = summarize(results)
    assert s['variants'][f'ft-{small}']['ap'] == pytest.approx(20.0)
    assert s['variants'][f'frozen-{small}']['trainable_share'] == pytest.approx(0.3)
    (cap_s, cap_l) = s['capacity_curve']
    assert cap_s['d_ap']['mean'] == pytest.approx(-2.0) and cap_s['d_ap']['std'] == 0
    assert cap_l['d_ap']['mean'] == pytest.approx(1.1)  # +1.0, +1.1, +1.2
    claims = {c['claim']: c for c in s['claims']}
    assert claims['cost']['difference'] == pytest.approx(-0.09)  # -0.1, -0.09, -0.08
    assert claims['cost']['verdict'] == HELD and claims['cost']['n'] == 3
    assert claims['capacity']['difference'] == pytest.approx(3.1)
    assert claims['capacity']['verdict'] == HELD
    assert claims['rare']['difference'] == pytest.approx(3.0)
    text = markdown(s)
    assert '**held**' in text and 'Capacity curve' in text


def test_a_claim_is_judged_only_on_seeds_that_have_every_run():
    small, large = HEADLINE_CAPACITIES
    by_seed = {0: {('frozen', large, 'ap'): 25.0, ('ft', large, 'ap'): 20.0,
                   ('frozen', small, 'ap'): 20.0, ('ft', small, 'ap'): 20.0},
               1: {('frozen', large, 'ap'): 25.0}}
    capacity = next(c for c in judge(by_seed) if c['claim'] == 'capacity')
    assert capacity['per_seed'] == {0: 5.0} and capacity['verdict'] == INCONCLUSIVE


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
def test_quick_run_produces_every_artefact(tmp_path, capsys):
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
    table = (work / 'report' / 'results.md').read_text()
    for r in summary['runs']:
        scalars = list((work / 'runs' / r['config'] / f'seed{r["seed"]}').rglob('scalars.json'))
        assert len(scalars) == 1
        evals = [json.loads(line) for line in scalars[0].read_text().splitlines()
                 if 'coco/bbox_mAP' in line]
        assert len(evals) == 5 and all('coco/bbox_APr' in e for e in evals)
        assert r['config'] in table
    # frozen runs went through FrozenRunner, which checked the weights against the export
    for r in summary['runs']:
        if r['variant'].startswith('frozen'):
            text = ''.join(p.read_text() for p in
                           (work / 'runs' / r['config']).rglob('*.log'))
            assert re.search(r'frozen parameters (equal|hold) the pretrained checkpoint', text)
    # the summary: its required fields, every variant, the three claims
    saved = json.load(open(work / 'summary.json'))
    assert set(saved['stage_seconds']) == {'data', 'upstream', 'detectors', 'report'}
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
        assert set(c) >= {'claim', 'verdict', 'difference', 'ci95'}
        assert c['verdict'] in (HELD, CONTRADICTED, INCONCLUSIVE)
        assert c['n'] == QUICK.seeds and c['ci95'] is not None
        assert c['ci95'][0] <= c['difference'] <= c['ci95'][1]
    assert len(saved['capacity_curve']) == len(CAPACITIES)
    for plot in ('capacity', 'ap_vs_time'):
        assert osp.getsize(saved['plots'][plot]) > 0
    assert '## The paper\'s claims' in (work / 'summary.md').read_text()
    # a second run reuses the data and the upstream backbone, and says so
    capsys.readouterr()
    again = run_study(parse_args(['--quick', '--work-dir', str(work), '--data-seed', '7',
                                  '--variants', 'ft-fpn', 'frozen-fpn', '--seeds', '1']))
    out = capsys.readouterr().out
    assert 'reused the cached data' in out and 'reused the cached upstream' in out
    assert again['upstream_top1'] == summary['upstream_top1']
