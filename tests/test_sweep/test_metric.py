"""SweepMetric: each member's predictions go to its own copy of a real CocoMetric."""
import json
import logging
import math
import os.path as osp

import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope
from mmengine.structures import BaseDataElement, InstanceData

import mmfrozen  # noqa: F401
from mmfrozen.sweep import MEMBER_PREDS


def _samples(tiny_coco, shift, label_offset=0, empty=False):
    """Predicted data samples as DetectorSweep.predict makes them: member ``exact`` predicts the
    ground truth, member ``shifted`` every box moved by ``shift`` of its size (IoU < 0.5), its
    labels moved by ``label_offset``, or (``empty``) nothing at all."""
    with open(osp.join(tiny_coco.root, tiny_coco.val_ann)) as f:
        ann = json.load(f)
    samples = []
    for image in ann['images']:
        boxes = [a['bbox'] for a in ann['annotations'] if a['image_id'] == image['id']]
        xyxy = torch.tensor([[x, y, x + w, y + h] for x, y, w, h in boxes])
        labels = torch.tensor([a['category_id'] - 1 for a in ann['annotations']
                               if a['image_id'] == image['id']])
        wh = xyxy[:, 2:] - xyxy[:, :2]
        preds = BaseDataElement()
        for name, delta, offset in (('exact', 0.0, 0), ('shifted', shift, label_offset)):
            moved = xyxy + torch.cat([wh, wh], dim=1) * delta
            keep = slice(0, 0) if empty and name == 'shifted' else slice(None)
            preds.set_field(DetDataSample(pred_instances=InstanceData(
                bboxes=moved[keep], scores=torch.ones(len(boxes))[keep],
                labels=(labels + offset)[keep])), name)
        sample = DetDataSample(metainfo=dict(img_id=image['id'],
                                             ori_shape=(image['height'], image['width'])))
        sample.set_field(preds, MEMBER_PREDS)
        samples.append(sample)
    return samples


@pytest.fixture(autouse=True)
def _mmdet_scope():
    init_default_scope('mmdet')  # as a Runner of an mmdet config sets it


def test_each_member_gets_its_own_metric(tiny_coco):
    evaluator = Evaluator(dict(type='SweepMetric', metric=dict(
        type='CocoMetric', ann_file=osp.join(tiny_coco.root, tiny_coco.val_ann), metric='bbox')))
    evaluator.dataset_meta = dict(classes=tiny_coco.classes)
    samples = _samples(tiny_coco, shift=0.6)
    for i in range(0, len(samples), 2):  # two batches of two images
        evaluator.process(data_samples=samples[i:i + 2], data_batch=None)
    results = evaluator.evaluate(len(samples))
    assert results['exact/coco/bbox_mAP'] == 1.0
    assert results['shifted/coco/bbox_mAP'] == 0.0
    assert not [k for k in results if not k.startswith(('exact/coco/', 'shifted/coco/'))]
    metric = evaluator.metrics[0]
    assert list(metric.member_metrics) == ['exact', 'shifted']
    assert all(m.dataset_meta == dict(classes=tiny_coco.classes)
               for ms in metric.member_metrics.values() for m in ms)


def test_refuses_predictions_of_a_single_detector(tiny_coco):
    evaluator = Evaluator(dict(type='SweepMetric', metric=dict(
        type='CocoMetric', ann_file=osp.join(tiny_coco.root, tiny_coco.val_ann), metric='bbox')))
    sample = DetDataSample(metainfo=dict(img_id=10000, ori_shape=(64, 64)))
    sample.pred_instances = InstanceData(bboxes=torch.zeros(0, 4), scores=torch.zeros(0),
                                         labels=torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match='predictions of a DetectorSweep'):
        evaluator.process(data_samples=[sample], data_batch=None)


def _evaluate(tiny_coco, samples):
    evaluator = Evaluator(dict(type='SweepMetric', metric=dict(
        type='CocoMetric', ann_file=osp.join(tiny_coco.root, tiny_coco.val_ann), metric='bbox')))
    evaluator.dataset_meta = dict(classes=tiny_coco.classes)
    for i in range(0, len(samples), 2):
        evaluator.process(data_samples=samples[i:i + 2], data_batch=None)
    return evaluator.evaluate(len(samples))


def test_a_member_predicting_classes_the_data_has_not_is_named(tiny_coco):
    """A member whose num_classes exceeds the data's: named at the first batch, not a bare
    IndexError of CocoMetric once the whole validation set is predicted."""
    with pytest.raises(ValueError, match=(
            r"sweep member 'shifted' predicts class [3-5], but the dataset has 3 classes: its "
            r"head's num_classes does not match the data")):
        _evaluate(tiny_coco, _samples(tiny_coco, shift=0.0, label_offset=3))


def test_a_member_with_no_predictions_gets_nan_metrics_and_a_warning(tiny_coco):
    """A member that predicts nothing (a diverged one): CocoMetric reports nothing for it; its
    metrics are NaN under its name, next to the other members', and a warning names it."""
    from mmengine.logging import MMLogger
    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    MMLogger.get_current_instance().addHandler(handler)
    try:
        results = _evaluate(tiny_coco, _samples(tiny_coco, shift=0.0, empty=True))
    finally:
        MMLogger.get_current_instance().removeHandler(handler)
    assert results['exact/coco/bbox_mAP'] == 1.0
    exact = sorted(k[len('exact/'):] for k in results if k.startswith('exact/'))
    shifted = sorted(k[len('shifted/'):] for k in results if k.startswith('shifted/'))
    assert shifted == exact and 'coco/bbox_mAP' in shifted
    assert all(math.isnan(results[f'shifted/{k}']) for k in shifted)
    warned = [r.getMessage() for r in records if 'SweepMetric' in r.getMessage()]
    assert len(warned) == 1 and "sweep member 'shifted' has no ['coco/bbox_mAP'" in warned[0]


def test_metrics_reporting_the_same_key_are_refused(tiny_coco):
    """Two metrics of one prefix: mmengine's Evaluator refuses them for one detector; the sweep
    kept the last one's values silently."""
    coco = dict(type='CocoMetric', ann_file=osp.join(tiny_coco.root, tiny_coco.val_ann),
                metric='bbox')
    evaluator = Evaluator(dict(type='SweepMetric', metric=[coco, dict(coco)]))
    evaluator.dataset_meta = dict(classes=tiny_coco.classes)
    samples = _samples(tiny_coco, shift=0.6)
    evaluator.process(data_samples=samples, data_batch=None)
    with pytest.raises(ValueError, match=(
            r"two of its metrics report 'coco/.*' for sweep member 'exact' \(\['CocoMetric', "
            r"'CocoMetric'\]\).*its own prefix")):
        evaluator.evaluate(len(samples))
