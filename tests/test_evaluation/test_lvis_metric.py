"""LVISMetric (faster-coco-eval, numpy 2) against hand-computed and independent LVIS numbers."""
import copy
import json

import numpy as np
import pytest
from mmdet.registry import METRICS

import mmfrozen  # noqa: F401
from mmfrozen.evaluation import LVISMetric

from ._cases import data_samples, federated_pycocotools, hand_case, random_case

KEYS = ('AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'APr', 'APc', 'APf')


def write(tmp_path, gt, name='lvis_val.json'):
    path = tmp_path / name
    path.write_text(json.dumps(gt))
    return str(path)


def test_registered_under_mmdet_name():
    assert METRICS.get('LVISMetric') is LVISMetric


def test_hand_case_through_process_and_evaluate(tmp_path):
    """The mmdet path: data samples -> process -> evaluate, keys lvis/bbox_AP... as mmdet's."""
    gt, dets, expected = hand_case()
    metric = METRICS.build(dict(type='LVISMetric', ann_file=write(tmp_path, gt), metric='bbox'))
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
    gt, dets, expected = hand_case()
    metric = LVISMetric(ann_file=write(tmp_path, gt), classwise=True,
                        metric_items=['AP', 'APr', 'AR@300'])
    metric.dataset_meta = dict(classes=[c['name'] for c in gt['categories']])
    samples = data_samples(dets, [1, 2, 3, 4], [1, 2, 3])
    metric.process({}, samples)
    results = metric.evaluate(len(samples))
    assert results['lvis/bbox_rare_a_precision'] == pytest.approx(expected['APr'], abs=5e-4)
    assert np.isnan(results['lvis/bbox_freq_d_precision'])  # no ground truth
    assert {'lvis/bbox_AP', 'lvis/bbox_APr', 'lvis/bbox_AR@300'} <= set(results)
    assert 'lvis/bbox_APc' not in results


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
    with pytest.raises(KeyError, match="use 'proposal_fast'"):
        LVISMetric(ann_file=write(tmp_path, gt), metric='proposal')
    with pytest.raises(ValueError, match='needs ann_file'):
        LVISMetric(ann_file=None)


@pytest.mark.slow  # a Runner test loop of a (shrunk) LVIS Mask R-CNN
def test_mmdet_lvis_config_tests_end_to_end(tiny_coco, tmp_path):
    """An LVIS config of the repository (mmdet's LVISV1Dataset + LVISMetric) runs a real test
    loop on tiny LVIS-format data: the dataset loads through the lvis API and the metric logs
    bbox and segm AP/APr/APc/APf."""
    import os.path as osp

    from mmengine.config import Config
    from mmengine.runner import Runner

    from mmfrozen.testing import tiny_overrides

    from ..conftest import CONFIGS
    from ._cases import shrink, tiny_lvis

    cfg = Config.fromfile(osp.join(CONFIGS, 'lvis', 'mask-rcnn_r50-ft_fpn_rfs-ms-1x_lvis-v1.py'))
    cfg = tiny_overrides(cfg, tiny_coco, str(tmp_path / 'work'), val=False)
    cfg.model.backbone.init_cfg = None
    shrink(cfg.model)
    ann = tiny_lvis(tiny_coco, 'val')
    cfg.test_dataloader.dataset.update(type='LVISV1Dataset', data_root='', ann_file=ann,
                                       data_prefix=dict(img=tiny_coco.root + '/'))
    cfg.test_evaluator = dict(type='LVISMetric', ann_file=ann, metric=['bbox', 'segm'])
    metrics = Runner.from_cfg(cfg).test()
    for t in ('bbox', 'segm'):
        for k in KEYS:
            assert -1.0 <= metrics[f'lvis/{t}_{k}'] <= 1.0, (t, k)
        assert metrics[f'lvis/{t}_AP'] >= 0.0  # every category has ground truth in val
