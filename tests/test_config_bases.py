"""The shared bases under configs/_base_/ hold each recipe once: the LSJ instance schedules are
their detection schedules with masks, as mmdet's LSJ instance base is its detection base with
masks."""
import os.path as osp

import mmdet
import pytest
from mmengine.config import Config

from .conftest import CONFIGS
from .test_configs import differing_keys

COMMON = osp.join(CONFIGS, '_base_', 'common')
MMDET_COMMON = osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs', 'common')


def unscoped(node):
    """``node`` as plain containers without the ``_scope_`` that inheriting an mmdet base adds."""
    if isinstance(node, dict):
        return {k: unscoped(v) for k, v in node.items() if k != '_scope_'}
    if isinstance(node, (list, tuple)):
        return type(node)(unscoped(v) for v in node)
    return node


def with_mask_keys(cfg):
    """Flattened keys of every ``with_mask`` flag in the pipelines of ``cfg``."""
    pipelines = {
        'train_pipeline': cfg.train_pipeline,
        'test_pipeline': cfg.test_pipeline,
        'train_dataloader.dataset.dataset.pipeline': cfg.train_dataloader.dataset.dataset.pipeline,
        'val_dataloader.dataset.pipeline': cfg.val_dataloader.dataset.pipeline,
        'test_dataloader.dataset.pipeline': cfg.test_dataloader.dataset.pipeline,
    }
    return sorted(f'{where}.{i}.with_mask' for where, steps in pipelines.items()
                  for i, step in enumerate(steps) if step.get('with_mask'))


@pytest.mark.parametrize('schedule', ['lsj-72e', 'lsj-600e'])
def test_instance_schedule_is_its_detection_schedule_with_masks(schedule):
    instance = Config.fromfile(osp.join(COMMON, f'{schedule}_coco-instance.py'))
    detection = Config.fromfile(osp.join(COMMON, f'{schedule}_coco-detection.py'))
    masks = with_mask_keys(instance)
    assert len(masks) == 5, masks  # LoadAnnotations of each of the five pipelines
    assert with_mask_keys(detection) == []
    assert differing_keys(instance, detection) == sorted(
        masks + ['val_evaluator.metric', 'val_evaluator.metric.0', 'val_evaluator.metric.1',
                 'test_evaluator.metric', 'test_evaluator.metric.0', 'test_evaluator.metric.1'])
    assert instance.val_evaluator.metric == instance.test_evaluator.metric == ['bbox', 'segm']


def test_lsj_instance_schedule_matches_mmdets_instance_data():
    """Data and evaluation as mmdet's own LSJ instance base sets them."""
    ours = Config.fromfile(osp.join(COMMON, 'lsj-72e_coco-instance.py'))
    mmdet = Config.fromfile(osp.join(MMDET_COMMON, 'lsj-100e_coco-instance.py')).to_dict()
    ours = ours.to_dict()
    for key in ('train_pipeline', 'test_pipeline', 'val_dataloader', 'test_dataloader',
                'val_evaluator', 'test_evaluator'):
        assert unscoped(ours[key]) == unscoped(mmdet[key]), key
    assert (unscoped(ours['train_dataloader']['dataset']['dataset'])
            == unscoped(mmdet['train_dataloader']['dataset']['dataset']))
