"""Upstream step: classification pretraining with mmpretrain, exported as a backbone checkpoint.

The exported file is what ImageNet weights are in "Proper Reuse of Image Classification
Features Improves Object Detection" (Vasconcelos et al., CVPR 2022): the detectors load it with
``init_cfg=dict(type='Pretrained', checkpoint=...)``. mmpretrain's and mmdet's ResNet share
their state-dict names, so the classifier's ``backbone.*`` tensors are saved without the prefix.
"""
import os
import os.path as osp
from typing import Dict, Optional, Tuple

import torch
from mmengine.config import Config

from ..analysis.config_edits import rescale_schedule
from ..datasets import ShapesClassification
from .progress import Progress
from .runner_utils import train_and_validate


def upstream_config(config: str, data: ShapesClassification, work_dir: str,
                    max_iters: Optional[int] = None, seed: int = 0) -> Config:
    """The upstream config pointed at ``data`` (its classes, its images), ``max_iters`` long."""
    cfg = Config.fromfile(config)
    cfg.work_dir = work_dir
    num_classes = len(data.classes)
    cfg.model.head.num_classes = num_classes
    cfg.data_preprocessor.num_classes = num_classes
    for split in ('train', 'val', 'test'):
        ds = cfg[f'{split}_dataloader'].dataset
        ds.data_root = data.root
        ds.ann_file = data.train_ann if split == 'train' else data.val_ann
        ds.data_prefix = data.img_prefix
        ds.metainfo = dict(classes=list(data.classes))
    if max_iters is not None:
        rescale_schedule(cfg, max_iters)
    cfg.randomness = dict(seed=seed, deterministic=False)
    return cfg


def export_backbone(state_dict: Dict[str, torch.Tensor], path: str,
                    meta: Optional[dict] = None) -> str:
    """Save the ``backbone.*`` tensors of a classifier's state dict, prefix stripped."""
    backbone = {k[len('backbone.'):]: v.detach().cpu().clone()
                for k, v in state_dict.items() if k.startswith('backbone.')}
    if not backbone:
        raise ValueError('the state dict has no backbone.* tensors: not an mmpretrain '
                         'ImageClassifier?')
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    torch.save({'state_dict': backbone, 'meta': dict(meta or {})}, path)
    return path


def pretrain_backbone(config: str, data: ShapesClassification, work_dir: str, progress: Progress,
                      max_iters: Optional[int] = None, seed: int = 0,
                      verbose: bool = False) -> Tuple[str, Dict[str, float]]:
    """Train the classifier of ``config`` on ``data`` and export its backbone.

    Returns:
        The path of the exported backbone checkpoint (``<work_dir>/backbone.pth``) and the
        classifier's validation metrics (``accuracy/top1``, ``accuracy/top5``).
    """
    cfg = upstream_config(config, data, work_dir, max_iters, seed)
    metrics = train_and_validate(cfg, 'upstream classifier', progress, verbose)
    from mmengine.runner import find_latest_checkpoint
    ckpt = find_latest_checkpoint(work_dir)
    if ckpt is None:
        raise RuntimeError(f'mmfrozen mini-study: the upstream run left no checkpoint in '
                           f'{work_dir}')
    state = torch.load(ckpt, map_location='cpu', weights_only=False)['state_dict']
    path = export_backbone(state, osp.join(work_dir, 'backbone.pth'),
                           meta=dict(config=osp.basename(config), classes=list(data.classes),
                                     **{k: round(v, 3) for k, v in metrics.items()}))
    return path, metrics
