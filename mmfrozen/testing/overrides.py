"""Point any mmdet config at a tiny generated dataset, at tiny resolution, for a few steps.

Used by the tests and by smoke runs: the model, losses, optimizer and hooks stay those of the
config; only data, image size, schedule and (optionally) the pretrained checkpoint change.
"""
import copy
from typing import Optional, Tuple

import torch
from mmengine.config import Config, ConfigDict
from mmengine.logging import MMLogger

from ..config.edits import (innermost_dataset, set_image_scale, set_num_classes,
                                     walk_dicts)
from .tiny_coco import TinyCoco


def shrink_model(cfg: Config, width: int = 32, fc_width: int = 64,
                 base_channels: int = 8) -> Config:
    """Make an mmdet ResNet/FPN-style model tiny: ResNet-18 with ``base_channels``, neck and
    heads ``width`` channels wide, fully connected layers ``fc_width`` wide.

    The model keeps its structure (detector, neck and head types, losses); only depths and
    widths change, so tests exercise the real modules quickly.
    """
    cfg = copy.deepcopy(cfg)
    backbone = cfg.model.backbone
    if backbone.get('type') not in ('ResNet', 'ResNetV1d', 'ResNeXt'):
        raise ValueError(f'shrink_model handles mmdet ResNet backbones, got {backbone.get("type")}')
    backbone.update(type='ResNet', depth=18, base_channels=base_channels)
    for key in ('groups', 'base_width', 'dcn', 'stage_with_dcn', 'plugins'):
        backbone.pop(key, None)
    n_out = len(backbone.get('out_indices', (0, 1, 2, 3)))
    first = 4 - n_out
    cfg.model.neck.in_channels = [base_channels * 2**i for i in range(first, 4)]

    def fn(d):
        for key in ('in_channels', 'feat_channels', 'out_channels'):
            if isinstance(d.get(key), int) and d[key] == 256:
                d[key] = width
        if isinstance(d.get('fc_out_channels'), int):
            d['fc_out_channels'] = fc_width
    for name, sub in cfg.model.items():
        if name != 'backbone':
            walk_dicts(sub, fn)
    return cfg


def make_local_pretrained(cfg: Config, path: str, module: str = 'backbone') -> str:
    """Stand-in for downloaded ImageNet weights: save the built module's init to ``path``.

    The module's ``init_cfg`` then points at this file, so the run takes the same loading path
    as with real pretrained weights, without a download.
    """
    from mmdet.registry import MODELS
    sub = copy.deepcopy(cfg.model[module])
    sub.pop('init_cfg', None)
    net = MODELS.build(sub)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')  # init_weights logs every tensor's init at INFO
    try:
        net.init_weights()
    finally:
        logger.setLevel(level)
    # Keys as in a detector checkpoint ('backbone.conv1.weight'): backbones with their own
    # loading code (mmdet's Swin) expect that prefix; mmengine's loader strips it.
    torch.save({'state_dict': {f'{module}.{k}': v for k, v in net.state_dict().items()}}, path)
    cfg.model[module]['init_cfg'] = dict(type='Pretrained', checkpoint=path, prefix=f'{module}.')
    return path


def tiny_overrides(cfg: Config, data: TinyCoco, work_dir: str, max_iters: Optional[int] = None,
                   max_epochs: int = 1, batch_size: int = 2, scale: Tuple[int, int] = (64, 64),
                   val: bool = True, checkpoint_interval: int = 1) -> Config:
    """Return a copy of ``cfg`` that trains on ``data`` for a few steps on CPU."""
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = work_dir
    with_mask = 'mask_head' in str(cfg.model.get('roi_head', ''))
    metainfo = dict(classes=data.classes)
    for split, ann in (('train', data.train_ann), ('val', data.val_ann), ('test', data.val_ann)):
        loader = cfg.get(f'{split}_dataloader')
        if loader is None:
            continue
        loader.batch_size = batch_size
        loader.num_workers = 0
        loader.persistent_workers = False
        ds = innermost_dataset(loader)
        ds.update(type='CocoDataset', data_root=data.root, ann_file=ann, metainfo=metainfo,
                  data_prefix=dict(img=data.img_prefix))
        if split == 'train':
            ds['filter_cfg'] = dict(filter_empty_gt=True, min_size=1)
    set_image_scale(cfg, scale)
    set_num_classes(cfg.model, len(data.classes))

    def no_score_threshold(d):  # an untrained tiny detector must still produce detections
        if 'score_thr' in d:
            d['score_thr'] = 0.0
    walk_dicts(cfg.model.get('test_cfg', {}), no_score_threshold)
    metric = ['bbox', 'segm'] if with_mask else 'bbox'
    for split in ('val', 'test'):
        cfg[f'{split}_evaluator'] = dict(type='CocoMetric', ann_file=f'{data.root}/{data.val_ann}',
                                         metric=metric, format_only=False)
    if max_iters is not None:
        cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters,
                             val_interval=max_iters if val else max_iters + 1)
    else:
        cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                             val_interval=1 if val else max_epochs + 1)
    if not val:
        cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, begin=0, end=1)]
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=checkpoint_interval,
                                        by_epoch=max_iters is None)
    cfg.default_hooks.pop('visualization', None)
    cfg.pop('auto_scale_lr', None)
    cfg.env_cfg = ConfigDict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork'),
                             dist_cfg=dict(backend='gloo'))
    cfg.log_processor = dict(type='LogProcessor', window_size=1, by_epoch=max_iters is None)
    cfg.randomness = dict(seed=0)
    return cfg
