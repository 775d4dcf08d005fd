"""mmfrozen.LVISMetric (faster-coco-eval, numpy 2) against hand-computed and independent LVIS
numbers, and against mmdet's own LVISMetric (run with numpy's removed alias put back)."""
import copy
import glob
import json
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.fileio import load
from mmengine.registry import EVALUATOR, DefaultScope
from mmdet.evaluation.functional import recall as mmdet_recall
from mmdet.evaluation.metrics import LVISMetric as MMDetLVISMetric
from mmdet.registry import METRICS

import mmfrozen  # noqa: F401
from mmfrozen.engine import FrozenRunner
from mmfrozen.engine.launch import build_runner
from mmfrozen.evaluation import LVISMetric
from mmfrozen.evaluation.metrics.lvis_metric import refuse_mmdet_lvis_metric

from ..conftest import CONFIGS
from ._cases import (categories_out_of_id_order, data_samples, federated_category_ap,
                     federated_pycocotools, hand_case, random_case)

KEYS = ('AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'APr', 'APc', 'APf')


def write(tmp_path, gt, name='lvis_val.json'):
    path = tmp_path / name
    path.write_text(json.dumps(gt))
    return str(path)


def evaluate(metric, gt, dets, image_ids=None):
    """process + evaluate, the path a Runner takes; labels index the categories in file order."""
    metric.dataset_meta = dict(classes=[c['name'] for c in gt['categories']])
    samples = data_samples(dets, [c['id'] for c in gt['categories']],
                           image_ids or [img['id'] for img in gt['images']])
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def test_chosen_by_its_scoped_name_while_lvis_metric_stays_mmdets(tmp_path):
    """``mmfrozen.LVISMetric`` builds ours through mmengine's Evaluator under mmdet's scope, as
    a Runner builds an mmdet config's evaluator; ``LVISMetric`` is still mmdet's class."""
    gt, _, _ = hand_case()
    path = write(tmp_path, gt)
    with DefaultScope.overwrite_default_scope('mmdet'):
        evaluator = Evaluator([dict(type='mmfrozen.LVISMetric', ann_file=path),
                               # stamped on the dicts of a config inherited as mmfrozen::<path>
                               dict(type='mmfrozen.LVISMetric', ann_file=path, _scope_='mmfrozen')])
    assert [type(m) for m in evaluator.metrics] == [LVISMetric, LVISMetric]
    assert METRICS.get('LVISMetric') is MMDetLVISMetric is not LVISMetric


def test_hand_case_through_process_and_evaluate(tmp_path):
    """The mmdet path: data samples -> process -> evaluate, keys lvis/bbox_AP... as mmdet's."""
    gt, dets, expected = hand_case()
    metric = METRICS.build(dict(type='mmfrozen.LVISMetric', ann_file=write(tmp_path, gt),
                                metric='bbox'))
    metric.dataset_meta = dict(classes=[c['name'] for c in gt['categories']])
    samples = data_samples(dets, [c['id'] for c in gt['categories']], [1, 2, 3])
    metric.process({}, samples)
    results = metric.evaluate(len(samples))
    assert set(results) == {f'lvis/bbox_{k}' for k in KEYS}
    for k, v in expected.items():
        assert results[f'lvis/bbox_{k}'] == pytest.approx(v, abs=5e-4), k  # rounded to .001
    assert expected['APr'] != expected['APc'] != expected['APf']


def test_hand_case_unrounded_and_each_rule_matters(tmp_path):
    gt, dets, expected = hand_case()
    metric = LVISMetric(ann_file=write(tmp_path, gt))
    stats = metric.evaluate_lvis(copy.deepcopy(dets), 'bbox').stats_as_dict
    got = dict(AP=stats['AP_all'], AP50=stats['AP_50'], AP75=stats['AP_75'], APr=stats['APr'],
               APc=stats['APc'], APf=stats['APf'])
    assert got == pytest.approx(expected, abs=1e-9)
    # without the 300-per-image limit the .2 detection of cat 3 in image 3 would be a TP
    assert LVISMetric(ann_file=write(tmp_path, gt), max_dets_per_image=400).evaluate_lvis(
        copy.deepcopy(dets), 'bbox').stats_as_dict['APf'] > expected['APf'] + 0.1
    # without the negative list of image 2, cat 1's .95 detection would be dropped: [TP],
    # precision 1 up to recall 1/2
    gt2 = copy.deepcopy(gt)
    gt2['images'][1]['neg_category_ids'] = []
    assert LVISMetric(ann_file=write(tmp_path, gt2, 'g2.json')).evaluate_lvis(
        copy.deepcopy(dets), 'bbox').stats_as_dict['APr'] == pytest.approx(51 / 101)
    # if cat 3 were exhaustive in image 1, its .95 detection would be a false positive
    gt3 = copy.deepcopy(gt)
    gt3['images'][0]['not_exhaustive_category_ids'] = []
    assert LVISMetric(ann_file=write(tmp_path, gt3, 'g3.json')).evaluate_lvis(
        copy.deepcopy(dets), 'bbox').stats_as_dict['APf'] == pytest.approx(67 * 0.5 / 101)


@pytest.mark.parametrize('iou_type', ['bbox', 'segm'])
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_random_cases_match_pycocotools_with_federated_rules(tmp_path, seed, iou_type):
    gt, dets = random_case(seed)
    metric = LVISMetric(ann_file=write(tmp_path, gt), metric=iou_type)
    stats = metric.evaluate_lvis(copy.deepcopy(dets), iou_type).stats_as_dict
    names = dict(AP='AP_all', AP50='AP_50', AP75='AP_75', APs='AP_small', APm='AP_medium',
                 APl='AP_large', APr='APr', APc='APc', APf='APf')
    ref = federated_pycocotools(gt, dets, iou_type)
    got = {k: stats[v] for k, v in names.items()}
    assert got == pytest.approx(ref, abs=1e-9)
    assert 0 < got['AP'] < 1


def test_random_case_matches_the_lvis_reference_implementation(tmp_path, monkeypatch):
    """lvis 0.5.3's own LVISEval, made to run by giving numpy back its removed alias."""
    lvis = pytest.importorskip('lvis', reason='the lvis package (reference LVISEval) is missing')
    monkeypatch.setattr(np, 'float', float, raising=False)
    gt, dets = random_case(3)
    path = write(tmp_path, gt)
    for iou_type in ('bbox', 'segm'):
        res = copy.deepcopy(dets)
        for d in res:
            d.pop('bbox' if iou_type == 'segm' else 'segmentation')
        ref = lvis.LVISEval(lvis.LVIS(path), lvis.LVISResults(lvis.LVIS(path), res), iou_type)
        ref.run()
        stats = LVISMetric(ann_file=path).evaluate_lvis(copy.deepcopy(dets), iou_type).stats_as_dict
        for k, v in dict(AP='AP_all', AP50='AP_50', AP75='AP_75', APs='AP_small',
                         APm='AP_medium', APl='AP_large', APr='APr', APc='APc',
                         APf='APf').items():
            assert stats[v] == pytest.approx(float(ref.results[k]), abs=1e-9), (iou_type, k)


def test_classwise_and_metric_items(tmp_path):
    """Class-wise AP under mmdet's keys, ``lvis/<class>_precision``."""
    gt, dets, expected = hand_case()
    metric = LVISMetric(ann_file=write(tmp_path, gt), classwise=True,
                        metric_items=['AP', 'APr', 'AR@300'])
    results = evaluate(metric, gt, dets)
    assert results['lvis/rare_a_precision'] == pytest.approx(expected['APr'], abs=5e-4)
    assert np.isnan(results['lvis/freq_d_precision'])  # no ground truth
    assert set(results) == {'lvis/bbox_AP', 'lvis/bbox_APr', 'lvis/bbox_AR@300'} | {
        f'lvis/{c["name"]}_precision' for c in gt['categories']}


def test_categories_out_of_id_order(tmp_path):
    """A file listing its categories out of id order: APr/APc/APf and the class-wise AP equal
    pycocotools' per-category AP (LVIS rules by hand) grouped by each category's own
    frequency. Read in file order instead of the evaluator's sorted ids, the rare and frequent
    buckets would trade places."""
    gt = categories_out_of_id_order(random_case(1)[0])
    dets = random_case(1)[1]
    metric = LVISMetric(ann_file=write(tmp_path, gt), classwise=True,
                        outfile_prefix=str(tmp_path / 'res'))
    results = evaluate(metric, gt, dets)
    written = load(str(tmp_path / 'res.bbox.json'))  # the detections the metric evaluated
    per_cat = federated_category_ap(gt, written, 'bbox')
    ref = federated_pycocotools(gt, written, 'bbox')
    for cat in gt['categories']:
        assert results[f'lvis/{cat["name"]}_precision'] == pytest.approx(
            per_cat[cat['id']], abs=5e-4, nan_ok=True), cat
    for b in 'rcf':
        bucket = [per_cat[c['id']] for c in gt['categories'] if c['frequency'] == b]
        assert results[f'lvis/bbox_AP{b}'] == pytest.approx(np.nanmean(bucket), abs=5e-4)
        assert results[f'lvis/bbox_AP{b}'] == pytest.approx(ref[f'AP{b}'], abs=5e-4)
    assert abs(results['lvis/bbox_APr'] - results['lvis/bbox_APf']) > 0.01  # a swap shows


class _NumpyOne:
    """numpy, with numpy 1's ``np.array`` of a ragged list: an object array."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def array(obj, *args, **kwargs):
        try:
            return np.array(obj, *args, **kwargs)
        except ValueError:
            out = np.empty(len(obj), dtype=object)
            for i, item in enumerate(obj):
                out[i] = item
            return out


@pytest.mark.parametrize('kwargs', [
    dict(metric=['bbox', 'segm'], classwise=True),
    dict(metric='proposal'),
    dict(metric='proposal_fast', proposal_nums=(2, 10, 300)),
], ids=['bbox-segm-classwise', 'proposal', 'proposal_fast'])
def test_same_keys_and_values_as_mmdets_lvis_metric(tmp_path, monkeypatch, kwargs):
    """mmdet's own LVISMetric and ours on the same data samples (categories in id order, where
    mmdet's class-wise AP is right): the same keys and values. mmdet's runs with what numpy 2
    removed put back for the test: ``np.float`` for lvis's LVISEval, and for 'proposal_fast'
    numpy 1's object array from a ragged list (its ``eval_recalls`` stacks every image's IoU
    matrix in one ``np.array``)."""
    gt, dets = random_case(3)
    path = write(tmp_path, gt)
    ours = evaluate(LVISMetric(ann_file=path, **kwargs), gt, dets)  # on numpy 2 as it is
    monkeypatch.setattr(np, 'float', float, raising=False)
    monkeypatch.setattr(mmdet_recall, 'np', _NumpyOne())
    theirs = evaluate(MMDetLVISMetric(ann_file=path, **kwargs), gt, dets)
    assert set(ours) == set(theirs) and len(ours) >= 3
    assert ours == pytest.approx(theirs, abs=1e-9, nan_ok=True)
    if kwargs['metric'] == 'proposal_fast':  # each result is paired with its own image's boxes
        shuffled = [img['id'] for img in gt['images']][::-1]
        assert evaluate(LVISMetric(ann_file=path, **kwargs), gt, dets, shuffled) == ours


def test_empty_results_report_nothing_as_mmdet(tmp_path):
    gt, _, _ = hand_case()
    assert evaluate(LVISMetric(ann_file=write(tmp_path, gt)), gt, []) == {}


def test_rejects_bad_input(tmp_path):
    gt, _, _ = hand_case()
    coco_like = copy.deepcopy(gt)
    for img in coco_like['images']:
        del img['neg_category_ids']
    with pytest.raises(ValueError, match='not an LVIS-format annotation file'):
        LVISMetric(ann_file=write(tmp_path, coco_like, 'c.json'))
    no_freq = copy.deepcopy(gt)
    del no_freq['categories'][0]['frequency']
    with pytest.raises(ValueError, match="LVIS-style 'frequency'"):
        LVISMetric(ann_file=write(tmp_path, no_freq, 'f.json'))
    with pytest.raises(KeyError, match="metric should be one of 'bbox', 'segm', 'proposal', "
                       "'proposal_fast', but got invalid."):  # mmdet's message
        LVISMetric(ann_file=write(tmp_path, gt), metric=['bbox', 'invalid'])
    with pytest.raises(ValueError, match='needs ann_file'):
        LVISMetric(ann_file=None)


ASKS_FOR_MMDETS = {
    'plain': dict(type='LVISMetric', ann_file='lvis_v1_val.json'),
    'scoped': [dict(type='CocoMetric'), dict(type='mmdet.LVISMetric', ann_file='x.json')],
    'in-a-sweep': dict(type='SweepMetric', metric=dict(type='LVISMetric', ann_file='x.json')),
}


@pytest.mark.parametrize('evaluator', list(ASKS_FOR_MMDETS.values()), ids=list(ASKS_FOR_MMDETS))
def test_mmdets_lvis_metric_is_refused_before_the_runner_builds(tmp_path, evaluator):
    """mmdet's LVISMetric would fail after a whole validation pass (np.float): FrozenRunner and
    the package's tools (a plain Runner too) refuse it at once, naming the name to write."""
    match = r"val_evaluator asks for mmdet's LVISMetric .*np\.float.*type='mmfrozen\.LVISMetric'"
    with pytest.raises(ValueError, match=match):
        FrozenRunner(model=dict(type='NeverBuilt'), work_dir=str(tmp_path),
                     val_evaluator=evaluator)
    cfg = Config(dict(model=dict(type='NeverBuilt'), work_dir=str(tmp_path),
                      val_evaluator=evaluator))
    with pytest.raises(ValueError, match=match):
        build_runner(cfg)


def test_mmdets_lvis_metric_is_left_alone_where_it_works(monkeypatch):
    refuse_mmdet_lvis_metric(dict(val_evaluator=dict(type='mmfrozen.LVISMetric')))
    # under the mmfrozen scope, the plain name is ours
    refuse_mmdet_lvis_metric(dict(val_evaluator=dict(type='LVISMetric', _scope_='mmfrozen')))
    monkeypatch.setattr(np, 'float', float, raising=False)  # numpy < 1.24
    assert LVISMetric.why_mmdet_cannot_run() is None
    refuse_mmdet_lvis_metric(dict(val_evaluator=ASKS_FOR_MMDETS['plain']))


SCOPED_TO_MMFROZEN = {
    'default_scope': dict(default_scope='mmfrozen', val_evaluator=dict(type='LVISMetric')),
    'enclosing-scope': dict(default_scope='mmdet', val_evaluator=dict(
        type='Evaluator', _scope_='mmfrozen', metrics=[dict(type='LVISMetric')])),
}


@pytest.mark.parametrize('where', list(SCOPED_TO_MMFROZEN))
def test_plain_lvis_metric_built_in_mmfrozen_scope_is_not_refused(tmp_path, where):
    """Under default_scope='mmfrozen', or nested in a dict of scope mmfrozen (an ``mmfrozen::``
    base stamps it), mmengine builds ``type='LVISMetric'`` as ours: the check agrees, and still
    refuses the same metric where the scope is mmdet's."""
    cfg = copy.deepcopy(SCOPED_TO_MMFROZEN[where])
    for node in [cfg['val_evaluator']] + cfg['val_evaluator'].get('metrics', []):
        if node['type'] == 'LVISMetric':
            node['ann_file'] = write(tmp_path, hand_case()[0])
    DefaultScope._instance_dict.pop('lvis-scope', None)
    DefaultScope.get_instance('lvis-scope', scope_name=cfg['default_scope'])
    evaluator = cfg['val_evaluator']  # as Runner.build_evaluator wraps it
    if 'metrics' not in evaluator:
        evaluator = dict(type='Evaluator', metrics=evaluator)
    try:
        built = EVALUATOR.build(copy.deepcopy(evaluator)).metrics[0]
    finally:
        DefaultScope._instance_dict.pop('lvis-scope', None)
    assert type(built) is LVISMetric
    refuse_mmdet_lvis_metric(cfg)
    cfg['default_scope'] = 'mmdet'
    cfg['val_evaluator'].pop('_scope_', None)
    with pytest.raises(ValueError, match=r"asks for mmdet's LVISMetric .*scope 'mmdet'"):
        refuse_mmdet_lvis_metric(cfg)


LVIS_CONFIGS = sorted(p for p in glob.glob(osp.join(CONFIGS, '**', '*lvis*.py'), recursive=True)
                      if '_base_' not in p)


def test_the_package_lvis_configs_name_mmfrozen_lvis_metric():
    """Every LVIS config of the package, loaded with all its bases (the package's ``_base_``
    fragments set evaluators too: the LSJ instance schedules add ``segm``), names ours."""
    assert len(LVIS_CONFIGS) > 20
    for path in LVIS_CONFIGS:
        cfg = Config.fromfile(path)
        refuse_mmdet_lvis_metric(cfg)
        for key in ('val_evaluator', 'test_evaluator'):
            assert METRICS.get(cfg[key]['type']) is LVISMetric, (path, key)


@pytest.mark.slow  # a Runner test loop of a (shrunk) LVIS Mask R-CNN
def test_mmdet_lvis_config_tests_end_to_end(tiny_coco, tmp_path):
    """An LVIS config of the repository (mmdet's LVISV1Dataset + mmfrozen.LVISMetric) runs a
    real test loop on tiny LVIS-format data: the dataset loads through the lvis API and the
    metric, built by the Runner from its scoped name, logs bbox and segm AP/APr/APc/APf."""
    import os.path as osp

    from mmengine.config import Config
    from mmengine.runner import Runner

    from mmfrozen.testing import tiny_overrides

    from ..conftest import CONFIGS
    from ._cases import shrink, tiny_lvis

    cfg = Config.fromfile(osp.join(CONFIGS, 'lvis', 'mask-rcnn_r50-ft_fpn_rfs-ms-1x_lvis-v1.py'))
    evaluator = cfg.test_evaluator  # the config's own, by its registered name
    assert evaluator.type == 'mmfrozen.LVISMetric'
    cfg = tiny_overrides(cfg, tiny_coco, str(tmp_path / 'work'), val=False)
    cfg.model.backbone.init_cfg = None
    shrink(cfg.model)
    ann = tiny_lvis(tiny_coco, 'val')
    cfg.test_dataloader.dataset.update(type='LVISV1Dataset', data_root='', ann_file=ann,
                                       data_prefix=dict(img=tiny_coco.root + '/'))
    cfg.test_evaluator = dict(evaluator, ann_file=ann, metric=['bbox', 'segm'])
    metrics = Runner.from_cfg(cfg).test()
    for t in ('bbox', 'segm'):
        for k in KEYS:
            assert -1.0 <= metrics[f'lvis/{t}_{k}'] <= 1.0, (t, k)
        assert metrics[f'lvis/{t}_AP'] >= 0.0  # every category has ground truth in val
