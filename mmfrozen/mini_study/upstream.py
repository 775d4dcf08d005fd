"""Stage 2: classification pretraining with mmpretrain, exported as a backbone checkpoint.

The exported file is what ImageNet weights are in "Proper Reuse of Image Classification
Features Improves Object Detection" (Vasconcelos et al., CVPR 2022): the detectors load it with
``init_cfg=dict(type='Pretrained', checkpoint=...)``. mmpretrain's and mmdet's ResNet share
their state-dict names, so the classifier's ``backbone.*`` tensors are saved without the prefix.
The export is cached by the data it was trained on, its config, iterations and seed.
"""
import json
import os
import os.path as osp
from typing import Dict, Optional, Tuple

import torch
from mmengine.config import Config

from ..checkpoint import model_state_dict, read_checkpoint, strip_prefix
from ..config.edits import innermost_dataset, rescale_schedule, walk_dicts
from ..datasets import ShapesClassification
from . import cache
from .progress import Progress
from .runner_utils import train_and_validate


def upstream_config(config: str, data: ShapesClassification, work_dir: str,
                    max_iters: Optional[int] = None, seed: int = 0) -> Config:
    """The upstream config pointed at ``data`` (its classes, images and image size)."""
    cfg = Config.fromfile(config)
    cfg.work_dir = work_dir
    num_classes = len(data.classes)
    cfg.model.head.num_classes = num_classes
    cfg.data_preprocessor.num_classes = num_classes
    for split in ('train', 'val', 'test'):
        ds = innermost_dataset(cfg[f'{split}_dataloader'])
        ds.data_root = data.root
        ds.ann_file = data.train_ann if split == 'train' else data.val_ann
        ds.data_prefix = data.img_prefix
        ds.metainfo = dict(classes=tuple(data.classes))  # a tuple dumps 3x faster than a list

    def crop(d: dict) -> None:
        if d.get('type') == 'RandomCrop':
            d['crop_size'] = data.image_size
    walk_dicts(cfg.train_dataloader, crop)
    if max_iters is not None:
        rescale_schedule(cfg, max_iters)
    cfg.randomness = dict(seed=seed, deterministic=False)
    return cfg


def export_backbone(state_dict: Dict[str, torch.Tensor], path: str,
                    meta: Optional[dict] = None) -> str:
    """Save the ``backbone.*`` tensors of a classifier's state dict, prefix stripped."""
    backbone = {k: v.detach().cpu().clone()
                for k, v in strip_prefix(state_dict, 'backbone.').items()}
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
        classifier's validation metrics (``accuracy/top1``, ``accuracy/top5``, percent).
    """
    cfg = upstream_config(config, data, work_dir, max_iters, seed)
    metrics = train_and_validate(cfg, 'upstream classifier', progress, verbose)
    from mmengine.runner import find_latest_checkpoint
    ckpt = find_latest_checkpoint(work_dir)
    if ckpt is None:
        raise RuntimeError(f'mmfrozen mini-study: the upstream run left no checkpoint in '
                           f'{work_dir}')
    state = model_state_dict(read_checkpoint(ckpt))
    path = export_backbone(state, osp.join(work_dir, 'backbone.pth'),
                           meta=dict(config=osp.basename(config), classes=list(data.classes),
                                     **{k: round(v, 3) for k, v in metrics.items()}))
    os.remove(ckpt)  # the export is what is reused; the full checkpoint is not
    return path, metrics


def upstream_key(data_key: str, config: str, data: ShapesClassification,
                 max_iters: Optional[int] = None, seed: int = 0) -> str:
    """Cache key of an upstream export (see :func:`cached_backbone`)."""
    import mmengine
    import mmpretrain
    text = upstream_config(config, data, '<cache>', max_iters, seed).pretty_text
    here = osp.dirname(osp.abspath(__file__))
    return cache.digest(
        dict(data=data_key, config=text.replace(data.root, '<data>'),
             versions=dict(torch=torch.__version__, mmengine=mmengine.__version__,
                           mmpretrain=mmpretrain.__version__)),
        [osp.join(here, 'upstream.py'), osp.join(here, 'runner_utils.py')])


def cached_backbone(cache_root: str, data_key: str, config: str, data: ShapesClassification,
                    progress: Progress, max_iters: Optional[int] = None, seed: int = 0,
                    fresh: bool = False,
                    verbose: bool = False) -> Tuple[str, Dict[str, float], str, bool]:
    """The exported upstream backbone for ``data``, from the cache or trained into it.

    The key covers the data's key, the config as it is trained (after :func:`upstream_config`'s
    edits, inherited bases included), the code that trains and exports it, and the versions of
    torch, mmengine and mmpretrain.

    Returns:
        The backbone checkpoint, the classifier's metrics, the cache entry and whether it was
        reused.
    """
    key = upstream_key(data_key, config, data, max_iters, seed)
    root = cache.entry(cache_root, 'upstream', key)
    if fresh:
        cache.clear(root)
    done = cache.complete(root)
    if done is not None:
        return osp.join(root, 'backbone.pth'), done['metrics'], root, True
    cache.clear(root)
    path, metrics = pretrain_backbone(config, data, root, progress, max_iters, seed, verbose)
    cache.finish(root, dict(key=key, data=data_key, config=osp.basename(config),
                            max_iters=max_iters, seed=seed, metrics=metrics))
    with open(osp.join(root, 'metrics.json'), 'w') as f:
        json.dump(metrics, f, indent=1)
    return path, metrics, root, False
