"""Stage 3: one detector variant trained and evaluated on the long-tailed shapes set."""
import math
import os.path as osp
import time
from typing import Any, Dict, Optional, Tuple

from mmengine.config import Config

from ..config.edits import (innermost_dataset, rescale_schedule, set_image_scale,
                                     set_num_classes)
from ..datasets import ShapesDetection
from .design import RunSchedule
from .progress import Progress
from .runner_utils import train_and_validate


def detection_config(config: str, data: ShapesDetection, pretrained: Optional[str],
                     work_dir: str, schedule: RunSchedule = RunSchedule(),
                     seed: int = 0) -> Config:
    """The detection config pointed at ``data`` and the upstream checkpoint ``pretrained``.

    Only paths, classes, the image size, the seed and what ``schedule`` sets (the iteration
    budget with the schedule's shape kept, the validation interval, the batch size, the score
    threshold, the learning-rate multiplier of a trained backbone) change; a backbone without a
    Pretrained ``init_cfg`` (from scratch) stays without one.
    """
    cfg = Config.fromfile(config)
    cfg.work_dir = work_dir
    classes = tuple(data.classes)  # a tuple: yapf formats a long list in a config dump 10x slower
    for split in ('train', 'val', 'test'):
        ds = innermost_dataset(cfg[f'{split}_dataloader'])
        ds.data_root = data.root
        ds.ann_file = data.train_ann if split == 'train' else data.val_ann
        ds.data_prefix = dict(img=data.img_prefix)
        ds.metainfo = dict(classes=classes)
    set_num_classes(cfg.model, len(classes))
    set_image_scale(cfg, (data.image_size, data.image_size))
    for key in ('val_evaluator', 'test_evaluator'):
        cfg[key].ann_file = osp.join(data.root, data.val_ann)
    init_cfg = cfg.model.backbone.get('init_cfg')
    if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
        if pretrained is None:
            raise ValueError(f'{config} loads a pretrained backbone; pass the upstream export')
        init_cfg.checkpoint = pretrained
    interval = schedule.val_interval or cfg.train_cfg.val_interval
    if schedule.max_iters is not None:
        rescale_schedule(cfg, schedule.max_iters)
    cfg.train_cfg.val_interval = min(interval, cfg.train_cfg.max_iters)
    if schedule.max_iters is not None or schedule.val_interval is not None:
        log_at_validations(cfg)
    if schedule.batch_size is not None:
        cfg.train_dataloader.batch_size = schedule.batch_size
    if schedule.score_thr is not None:
        cfg.model.test_cfg.score_thr = schedule.score_thr
    if schedule.backbone_lr_mult is not None:
        keys = cfg.optim_wrapper.get('paramwise_cfg', {}).get('custom_keys', {})
        if 'backbone' not in keys:
            raise ValueError(f'{config} sets no backbone learning-rate multiplier '
                             '(optim_wrapper.paramwise_cfg.custom_keys.backbone) to change')
        keys['backbone']['lr_mult'] = schedule.backbone_lr_mult
    cfg.randomness = dict(seed=seed, deterministic=False)
    return cfg


def log_at_validations(cfg: Config) -> None:
    """Log (and average the logged iteration time over windows of) a number of iterations that
    divides the validation interval and the run.

    The study's training time at a validation is the sum of the logged windows before it
    (:func:`.results.training_seconds`), exact only when a window ends at every validation: the
    configs' 15 divide their 90 and 450, not the long profile's 100 and 800 (its validation at
    iteration 100 was given the time of 90, the one at 800 that of 795).
    """
    logger = cfg.default_hooks.get('logger')
    if logger is None:
        return
    step = math.gcd(int(logger.get('interval', 50)), int(cfg.train_cfg.val_interval),
                    int(cfg.train_cfg.max_iters))
    logger.interval = step
    if cfg.get('log_processor') is not None:
        cfg.log_processor.window_size = step


def trained_schedule(cfg: Config) -> Dict[str, Any]:
    """How a detection config trains, read from the config itself (whatever set it: the file,
    the study's :class:`RunSchedule`): ``max_iters``, ``batch_size``, ``images`` (their product),
    ``warmup_iters`` (the end of a leading ``LinearLR``; 0 without one), ``val_interval``,
    ``lr``, ``backbone_lr_mult`` (None without one) and ``score_thr``."""
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    first = schedulers[0] if schedulers else {}
    keys = cfg.optim_wrapper.get('paramwise_cfg', {}).get('custom_keys', {})
    backbone = keys.get('backbone', {}).get('lr_mult')
    max_iters, batch = int(cfg.train_cfg.max_iters), int(cfg.train_dataloader.batch_size)
    return dict(max_iters=max_iters, batch_size=batch, images=max_iters * batch,
                warmup_iters=int(first.get('end', 0)) if first.get('type') == 'LinearLR' else 0,
                val_interval=int(cfg.train_cfg.val_interval),
                lr=float(cfg.optim_wrapper.optimizer.lr),
                backbone_lr_mult=None if backbone is None else float(backbone),
                score_thr=cfg.model.get('test_cfg', {}).get('score_thr'))


def train_detector(config: str, data: ShapesDetection, pretrained: Optional[str], work_dir: str,
                   progress: Progress, label: str, schedule: RunSchedule = RunSchedule(),
                   seed: int = 0, verbose: bool = False
                   ) -> Tuple[Dict[str, float], Dict[str, Any]]:
    """Train and evaluate one detector variant; returns its last validation metrics and how it
    trained (:func:`trained_schedule` of the config it trained with)."""
    cfg = detection_config(config, data, pretrained, work_dir, schedule, seed)
    trained = trained_schedule(cfg)
    metrics = train_and_validate(cfg, label, progress, verbose)
    if 'coco/bbox_mAP' not in metrics:
        raise RuntimeError(f'mmfrozen mini-study: run {label!r} logged no coco/bbox_mAP (got '
                           f'{sorted(metrics)}); see the log under {work_dir}')
    return metrics, trained


def detector_job(config: str, data: ShapesDetection, pretrained: Optional[str], work_dir: str,
                 label: str, schedule: RunSchedule, seed: int, verbose: bool, threads: int,
                 study_start: Optional[float] = None, device: str = 'cpu') -> dict:
    """One detector run in a worker process; returns its metrics, wall-clock seconds and how it
    trained (``trained``: :func:`trained_schedule`).

    ``study_start`` (``time.time()`` of the study's start) makes its progress lines show the
    study's clock; ``device`` is ``cpu`` (CUDA hidden from the process) or ``cuda``.
    """
    import warnings

    from .runner_utils import use_device
    use_device(device)

    import torch
    if not verbose:  # mmdet's prior generators call torch.meshgrid without `indexing`
        warnings.filterwarnings('ignore', message=r'torch\.meshgrid')

    import mmfrozen  # noqa: F401  (registers the metric, hooks, runner and models)
    torch.set_num_threads(threads)
    t0 = time.time()
    metrics, trained = train_detector(config, data, pretrained, work_dir,
                                      Progress(num_stages=0, start=study_start), label,
                                      schedule=schedule, seed=seed, verbose=verbose)
    return dict(metrics=metrics, seconds=time.time() - t0, trained=trained)
