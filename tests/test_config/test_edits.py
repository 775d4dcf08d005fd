"""The shared config edits, on the package's real configs."""
import os.path as osp

import pytest
from mmengine.config import Config

from mmfrozen.config.edits import (disable_pretrained, innermost_dataset, rescale_schedule,
                                   set_freeze_precision, set_image_scale, set_num_classes)

from ..conftest import CONFIGS

MINI = osp.join(CONFIGS, 'mini_study', 'fcos_r18-ft_fpn_1xb8-450it_shapes.py')
LVIS_CASCADE = osp.join(CONFIGS, 'lvis', 'cascade-mask-rcnn_r50-frozen_nasfpn_rfs-ms-1x_lvis-v1.py')


def test_rescale_schedule_keeps_its_shape():
    cfg = Config.fromfile(MINI)
    assert cfg.train_cfg.max_iters == 450 and cfg.default_hooks.logger.interval == 15
    (warmup, cosine) = cfg.param_scheduler
    assert (warmup.end, cosine.begin, cosine.end) == (45, 45, 450)
    rescale_schedule(cfg, 40)
    assert cfg.train_cfg.max_iters == cfg.train_cfg.val_interval == 40
    assert cfg.default_hooks.checkpoint.interval == 40
    assert cfg.default_hooks.logger.interval == 15  # still logs twice
    (warmup, cosine) = cfg.param_scheduler
    assert (warmup.begin, warmup.end, cosine.begin, cosine.end) == (0, 4, 4, 40)
    rescale_schedule(cfg, 8)
    assert cfg.default_hooks.logger.interval == 8  # logs at least once
    assert (cfg.param_scheduler[0].end, cfg.param_scheduler[1].end) == (1, 8)  # 10 %, as before
    step = Config.fromfile(MINI)
    step.param_scheduler = [dict(type='MultiStepLR', by_epoch=False, begin=0, end=450,
                                 milestones=[360])]
    rescale_schedule(step, 12)
    assert step.param_scheduler[0].milestones == [10]  # 80 % of the run, as before

    epoch_based = Config.fromfile(osp.join(CONFIGS, 'faster_rcnn',
                                           'faster-rcnn_r50-ft_fpn_1x_coco.py'))
    with pytest.raises(ValueError, match='iteration-based'):
        rescale_schedule(epoch_based, 10)


def test_disable_pretrained_keeps_other_inits():
    cfg = Config.fromfile(LVIS_CASCADE)
    cfg.model.neck.init_cfg = [dict(type='Kaiming', layer='Conv2d'),
                               dict(type='Pretrained', checkpoint='neck.pth')]
    cfg.load_from, cfg.resume = 'detector.pth', True
    assert disable_pretrained(cfg) == ['backbone', 'neck']
    assert cfg.model.backbone.init_cfg is None
    assert cfg.model.neck.init_cfg == [dict(type='Kaiming', layer='Conv2d')]
    assert cfg.load_from is None and cfg.resume is False
    assert disable_pretrained(cfg) == []
    # modules that load themselves when built (a path on mmdet's ResNet, timm's True)
    cfg.model.backbone.pretrained = 'resnet50.pth'
    cfg.model.neck.pretrained = True
    assert disable_pretrained(cfg) == ['backbone', 'neck']
    assert cfg.model.backbone.pretrained is None and cfg.model.neck.pretrained is False


def test_dataset_image_scale_and_classes_reach_every_wrapper_head_and_transform():
    cfg = Config.fromfile(LVIS_CASCADE)
    # LVIS trains through repeat-factor sampling: ClassBalancedDataset around LVISV1Dataset
    assert cfg.train_dataloader.dataset.type == 'ClassBalancedDataset'
    assert innermost_dataset(cfg.train_dataloader)['type'] == 'LVISV1Dataset'
    assert innermost_dataset(cfg.val_dataloader) is cfg.val_dataloader.dataset
    set_num_classes(cfg.model, 7)
    heads = cfg.model.roi_head.bbox_head
    assert len(heads) == 3 and [h.num_classes for h in heads] == [7, 7, 7]
    assert cfg.model.roi_head.mask_head.num_classes == 7
    set_image_scale(cfg, (96, 128))
    resize = [t for t in innermost_dataset(cfg.train_dataloader).pipeline
              if t['type'] == 'RandomChoiceResize']
    assert resize and resize[0]['scales'] == [(96, 128)]
    assert [t['scale'] for t in cfg.test_pipeline if t['type'] == 'Resize'] == [(96, 128)]


def test_freeze_precision_needs_a_freeze_hook():
    cfg = Config.fromfile(LVIS_CASCADE)
    set_freeze_precision(cfg, 'bf16', True)
    assert (cfg.custom_hooks[0].precision, cfg.custom_hooks[0].channels_last) == ('bf16', True)
    with pytest.raises(ValueError, match='needs a frozen config'):
        set_freeze_precision(Config.fromfile(MINI), 'bf16', False)
