"""The mini-study pipeline: quick mode end to end (every artefact, sane values), and its parts."""
import json
import os.path as osp
import re

import pytest
import torch

from mmfrozen.mini_study.pipeline import parse_args, plan_runs, run_study
from mmfrozen.mini_study.report import markdown, summarize
from mmfrozen.mini_study.upstream import export_backbone
from mmfrozen.mini_study.variants import HEADLINE, VARIANTS, select

from .conftest import CONFIGS


def test_every_variant_config_exists_and_twins_by_name():
    stems = {v.stem for v in VARIANTS}
    for v in VARIANTS:
        assert osp.exists(osp.join(CONFIGS, 'mini_study', v.config)), v.config
        mode = v.stem.split('_')[1].split('-', 1)[1]
        twin = v.stem.replace(f'r18-{mode}', 'r18-ft')
        assert twin in stems, f'{v.stem}: its fine-tuned twin {twin} is not a variant'


def test_plan_runs_seeds_only_the_headline_pair():
    runs = plan_runs(list(VARIANTS), seeds=3)
    assert sorted((v.key, s) for v, s in runs if s > 0) == sorted(
        (k, s) for k in HEADLINE for s in (1, 2))
    assert len(runs) == len(VARIANTS) + 2 * len(HEADLINE)


def test_bad_arguments_are_refused():
    with pytest.raises(SystemExit):
        parse_args(['--seeds', '0'])
    with pytest.raises(SystemExit):
        parse_args(['--variants', 'frozen', 'nonsense'])
    with pytest.raises(ValueError, match='unknown variant'):
        select(['nonsense'])


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


def test_summary_pairs_seed_by_seed():
    def rec(variant, seed, ap):
        return dict(variant=variant, seed=seed, metrics={
            'coco/bbox_mAP': ap, 'coco/bbox_mAP_50': ap, 'coco/bbox_APr': ap,
            'coco/bbox_APc': -1.0, 'coco/bbox_APf': ap})
    records = [rec('ft-capacity', 0, 0.30), rec('ft-capacity', 1, 0.20),
               rec('frozen-capacity', 0, 0.35), rec('frozen-capacity', 1, 0.21)]
    s = summarize(records)
    assert s['variants']['ft-capacity']['AP']['mean'] == pytest.approx(25.0)
    assert s['variants']['ft-capacity']['APc']['mean'] is None  # COCO's -1: no such class
    (pair,) = s['pairs']
    assert pair['seeds'] == [0, 1]
    assert pair['diff']['AP']['mean'] == pytest.approx(3.0)  # mean of +5 and +1
    assert pair['diff']['AP']['std'] == pytest.approx(2.828, abs=1e-3)
    assert 'frozen-capacity − ft-capacity' in markdown(s)


@pytest.mark.slow
def test_quick_run_produces_every_artefact(tmp_path):
    work = tmp_path / 'study'
    summary = run_study(parse_args(['--quick', '--work-dir', str(work)]))
    # data: both sets, with the three LVIS buckets
    assert osp.exists(work / 'data' / 'classification' / 'train.txt')
    val = json.load(open(work / 'data' / 'detection' / 'annotations' / 'val.json'))
    assert {c['frequency'] for c in val['categories']} == {'r', 'c', 'f'}
    # upstream: an mmpretrain run and the exported backbone
    ckpt = torch.load(work / 'upstream' / 'backbone.pth', weights_only=False)
    assert ckpt['state_dict'] and not any(k.startswith('backbone.') for k in ckpt['state_dict'])
    assert 0.0 <= summary['upstream']['accuracy/top1'] <= 100.0
    # every variant ran, evaluated with the frequency-bucket metric
    state = json.load(open(work / 'study_state.json'))
    assert sorted(r['variant'] for r in state['records']) == sorted(v.key for v in VARIANTS)
    for r in state['records']:
        for key in ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/bbox_APr', 'coco/bbox_APc',
                    'coco/bbox_APf'):
            assert -1.0 <= r['metrics'][key] <= 1.0, (r['variant'], key)
    # frozen runs went through FrozenRunner, which checked the weights against the export
    for v in VARIANTS:
        if 'frozen' in v.key:
            logs = list((work / 'runs' / v.stem).rglob('*.log'))
            text = ''.join(p.read_text() for p in logs)
            assert re.search(r'frozen parameters (equal|hold) the pretrained checkpoint', text), \
                v.key
    # every run logged into its own folder (one session, its own scalars and config)
    for r in state['records']:
        sessions = [p for p in (work / 'runs').glob(f'{r["config"]}/seed{r["seed"]}/2*')]
        assert len(sessions) == 1, sessions
        vis = sessions[0] / 'vis_data'
        assert [p.name for p in vis.glob('2*.json')] == [sessions[0].name + '.json']
        dumped = work / 'runs' / r['config'] / f'seed{r["seed"]}' / f'{r["config"]}.py'
        assert (vis / 'config.py').read_text() == dumped.read_text()
    # training cost, results table, plots, summary
    cost = json.load(open(work / 'train_cost.json'))
    assert {e['config'] for e in cost['results']} == {VARIANTS[0].stem, VARIANTS[1].stem}
    assert all(e['sec_per_iter'] > 0 and e['trainable_params'] <= e['total_params']
               for e in cost['results'])
    frozen = next(e for e in cost['results'] if e['config'] == VARIANTS[1].stem)
    ft = next(e for e in cost['results'] if e['config'] == VARIANTS[0].stem)
    assert frozen['trainable_params'] < ft['trainable_params']
    table = (work / 'report' / 'results.md').read_text()
    assert all(v.stem in table for v in VARIANTS)
    assert (work / 'report' / 'results.csv').exists()
    assert list((work / 'report' / 'plots').glob('*.png'))
    assert (work / 'mini_study_overview.png').stat().st_size > 0
    assert set(summary['variants']) == {v.key for v in VARIANTS}
    assert (work / 'summary.md').read_text().count('|') > 20
