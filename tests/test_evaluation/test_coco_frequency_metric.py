"""CocoFrequencyMetric: CocoMetric's keys plus APr/APc/APf, checked against pycocotools run
category by category (an independent path: one COCOeval per category, bucket means by hand)."""
import copy
import io
import json
from contextlib import redirect_stdout

import numpy as np
import pytest
from mmdet.registry import METRICS
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

import mmfrozen  # noqa: F401
from mmfrozen.evaluation import CocoFrequencyMetric

from ._cases import categories_out_of_id_order, data_samples, random_case


def coco_case(seed):
    """COCO-format data with LVIS-style frequency (no federated lists), with crowd-free gt."""
    gt, dets = random_case(seed)
    for img in gt['images']:
        del img['neg_category_ids'], img['not_exhaustive_category_ids']
    for a in gt['annotations']:
        a['iscrowd'] = 0
    return gt, dets


def per_category_by_pycocotools(gt_path, dets, iou_type):
    """AP (IoU .50:.95, all areas, 100 dets) of each category, one COCOeval per category."""
    coco = COCO(gt_path)
    out = {}
    for cat in coco.getCatIds():
        ev = COCOeval(coco, coco.loadRes(copy.deepcopy(dets)), iou_type)
        ev.params.catIds = [cat]
        with redirect_stdout(io.StringIO()):
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
        out[cat] = ev.stats[0]  # -1 when the category has no ground truth
    return out


def run_metric(metric, gt, dets):
    metric.dataset_meta = dict(classes=[c['name'] for c in gt['categories']])
    samples = data_samples(dets, [c['id'] for c in gt['categories']],
                           [img['id'] for img in gt['images']])
    metric.process({}, samples)
    return metric.evaluate(len(samples))


@pytest.mark.parametrize('seed,out_of_order', [(0, False), (1, True)],
                         ids=['id-order', 'out-of-id-order'])
def test_buckets_match_per_category_pycocotools(tmp_path, seed, out_of_order):
    """Buckets and class-wise AP against pycocotools, also for a file that lists its categories
    out of id order (there, assigned in file order, APr and APf would trade places)."""
    gt, dets = coco_case(seed)
    if out_of_order:
        gt = categories_out_of_id_order(gt)
    path = tmp_path / 'val.json'
    path.write_text(json.dumps(gt))
    metric = METRICS.build(dict(type='CocoFrequencyMetric', ann_file=str(path), metric=['bbox'],
                                classwise=out_of_order))
    results = run_metric(metric, gt, dets)

    dets_bbox = [{k: v for k, v in d.items() if k != 'segmentation'} for d in dets]
    per_cat = per_category_by_pycocotools(str(path), dets_bbox, 'bbox')
    freq = {c['id']: c['frequency'] for c in gt['categories']}
    for b in 'rcf':
        aps = [ap for c, ap in per_cat.items() if freq[c] == b and ap > -1]
        assert aps, 'the case must have ground truth in every bucket'
        assert results[f'coco/bbox_AP{b}'] == pytest.approx(np.mean(aps), abs=5e-4), b
    # everything CocoMetric reports is still there; buckets average to the same mAP
    for k in ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l'):
        assert f'coco/bbox_{k}' in results
    all_aps = [ap for ap in per_cat.values() if ap > -1]
    assert results['coco/bbox_mAP'] == pytest.approx(np.mean(all_aps), abs=5e-4)
    if out_of_order:
        assert abs(results['coco/bbox_APr'] - results['coco/bbox_APf']) > 0.01  # a swap shows
        for cat in gt['categories']:
            ap = per_cat[cat['id']]
            assert results[f'coco/bbox_{cat["name"]}_precision'] == pytest.approx(
                ap if ap > -1 else np.nan, abs=5e-4, nan_ok=True), cat

    # unrounded path equals the independent numbers exactly
    exact = metric.bucket_ap(copy.deepcopy(dets_bbox), 'bbox')
    for b in 'rcf':
        aps = [ap for c, ap in per_cat.items() if freq[c] == b and ap > -1]
        assert exact[f'AP{b}'] == pytest.approx(np.mean(aps), abs=1e-12)
        assert exact['num_categories'][b] == len(aps)


def test_segm_classwise_and_empty_bucket(tmp_path):
    gt, dets = coco_case(2)
    gt['categories'] = gt['categories'][:4]  # cat1 r, cat2 c, cat3 f, cat4 r
    gt['annotations'] = [a for a in gt['annotations'] if a['category_id'] <= 4]
    dets = [d for d in dets if d['category_id'] <= 4]
    gt['annotations'] = [a for a in gt['annotations'] if a['category_id'] != 3]  # no f with gt
    path = tmp_path / 'val.json'
    path.write_text(json.dumps(gt))
    metric = CocoFrequencyMetric(ann_file=str(path), metric=['bbox', 'segm'], classwise=True)
    # segm needs masks in the predictions: give each box its rectangle mask
    results = run_metric_with_masks(metric, gt, dets)
    for t in ('bbox', 'segm'):
        assert results[f'coco/{t}_APf'] == -1.0  # no frequent category with ground truth
        assert 0.0 <= results[f'coco/{t}_APr'] <= 1.0
        assert f'coco/{t}_mAP' in results
    # per-class AP, averaged by the buckets: APr is the mean over the r classes with gt
    r_aps = [results[f'coco/segm_{c["name"]}_precision'] for c in gt['categories']
             if c['frequency'] == 'r']
    assert results['coco/segm_APr'] == pytest.approx(np.mean(r_aps), abs=1e-3)
    assert np.isnan(results['coco/bbox_cat2_precision'])  # frequent class without gt
    assert 'coco/cat0_precision' in results  # CocoMetric's own classwise keys stay


def run_metric_with_masks(metric, gt, dets):
    import torch
    metric.dataset_meta = dict(classes=[c['name'] for c in gt['categories']])
    samples = data_samples(dets, [c['id'] for c in gt['categories']],
                           [img['id'] for img in gt['images']])
    for s in samples:
        boxes = s['pred_instances']['bboxes']
        masks = torch.zeros((len(boxes), 100, 100), dtype=torch.bool)
        for i, (x0, y0, x1, y1) in enumerate(boxes.round().long().tolist()):
            masks[i, y0:y1, x0:x1] = True
        s['pred_instances']['masks'] = masks
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def test_needs_frequency_on_every_evaluated_category(tmp_path):
    """Refused when the Runner hands it the dataset's classes (before training), naming the
    category evaluated without a frequency."""
    gt, _ = coco_case(0)
    del gt['categories'][2]['frequency']
    path = tmp_path / 'val.json'
    path.write_text(json.dumps(gt))
    metric = CocoFrequencyMetric(ann_file=str(path))
    with pytest.raises(ValueError, match=r"category 3 \('cat2'\).*frequency=None"):
        metric.dataset_meta = dict(classes=[c['name'] for c in gt['categories']])
    with pytest.raises(ValueError, match='needs ann_file'):
        CocoFrequencyMetric(ann_file=None)


def test_a_category_the_dataset_leaves_out_needs_no_frequency(tmp_path):
    """The annotation file has a category without ``frequency`` that the dataset's classes
    leave out: nothing reads its bucket, so the metric builds and evaluates."""
    gt, dets = coco_case(1)
    gt['categories'].append(dict(id=99, name='unused'))
    path = tmp_path / 'val.json'
    path.write_text(json.dumps(gt))
    metric = CocoFrequencyMetric(ann_file=str(path), metric='bbox')
    metric.dataset_meta = dict(classes=[c['name'] for c in gt['categories'][:-1]])
    samples = data_samples(dets, [c['id'] for c in gt['categories'][:-1]],
                           [img['id'] for img in gt['images']])
    metric.process({}, samples)
    assert 0 <= metric.evaluate(len(samples))['coco/bbox_APr'] <= 1


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_faster_coco_eval_backend_gives_the_pycocotools_numbers(tmp_path, seed):
    from mmdet.evaluation.metrics import coco_metric
    original = coco_metric.COCOeval
    gt, dets = coco_case(seed)
    path = tmp_path / 'val.json'
    path.write_text(json.dumps(gt))
    results = {}
    for backend in CocoFrequencyMetric.BACKENDS:
        metric = CocoFrequencyMetric(ann_file=str(path), metric=['bbox', 'segm'],
                                     classwise=True, backend=backend)
        results[backend] = run_metric_with_masks(metric, gt, copy.deepcopy(dets))
        assert coco_metric.COCOeval is original  # mmdet's name is restored after each call
    ref, fast = results['pycocotools'], results['faster-coco-eval']
    assert set(ref) == set(fast) and any(k.endswith('_APr') for k in ref)
    for key, value in ref.items():
        assert fast[key] == pytest.approx(value, abs=1e-9, nan_ok=True), key


def test_unknown_backend_is_refused(tmp_path):
    gt, _ = coco_case(0)
    path = tmp_path / 'val.json'
    path.write_text(json.dumps(gt))
    with pytest.raises(ValueError, match="backend must be one of"):
        CocoFrequencyMetric(ann_file=str(path), backend='lvis')
