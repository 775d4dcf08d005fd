"""Work dirs written as mmengine 0.10.7 writes them, for runs the tiny real twins are not:
iteration-based, diverged, hundreds of iterations, several Runners in one process.

What is written follows mmengine's code: ``LoggerHook.after_train_iter`` logs
``LogProcessor.get_log_after_iter``'s tag with ``step=runner.iter + 1`` (``epoch`` =
``runner.epoch + 1`` when ``log_processor.by_epoch``, which an ``IterBasedTrainLoop`` never
advances, and the global iteration in ``[i/n]`` with ``n`` the dataloader's length);
``after_val_epoch`` logs the metrics, ``data_time`` and ``time`` with ``step`` = the epoch
(``log_metric_by_epoch``, default) or the iteration; ``LocalVisBackend`` appends every record to
``vis_data/scalars.json`` and to ``vis_data/<timestamp>.json`` and dumps the config to
``vis_data/config.py``; ``Runner.dump_config`` writes ``<work_dir>/<config name>.py``.
"""
import json
import math
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

PREFIX = '2026/12/01 10:00:00 - mmengine - INFO - '
METRICS = ('bbox_mAP', 'bbox_mAP_50', 'bbox_mAP_75', 'bbox_mAP_s', 'bbox_mAP_m', 'bbox_mAP_l')


def config_text(loop: str, length: int, val_interval: int, log_by_epoch: bool = True,
                depth: int = 18) -> str:
    """A dumped RetinaNet config (ImageNet-pretrained ResNet, fine-tuned) whose ``train_cfg`` is
    ``loop`` (``EpochBasedTrainLoop`` or ``IterBasedTrainLoop``) of ``length`` epochs or
    iterations."""
    length_key = 'max_epochs' if loop == 'EpochBasedTrainLoop' else 'max_iters'
    return f"""auto_scale_lr = dict(base_batch_size=16, enable=False)
data_root = 'data/coco/'
dataset_type = 'CocoDataset'
default_hooks = dict(
    checkpoint=dict(interval={val_interval}, type='CheckpointHook', by_epoch={log_by_epoch}),
    logger=dict(interval=50, type='LoggerHook', log_metric_by_epoch={log_by_epoch}),
    timer=dict(type='IterTimerHook'))
default_scope = 'mmdet'
launcher = 'none'
load_from = None
log_level = 'INFO'
log_processor = dict(by_epoch={log_by_epoch}, type='LogProcessor', window_size=50)
model = dict(
    backbone=dict(
        depth={depth},
        frozen_stages=1,
        init_cfg=dict(checkpoint='torchvision://resnet{depth}', type='Pretrained'),
        norm_cfg=dict(requires_grad=True, type='BN'),
        norm_eval=True,
        num_stages=4,
        out_indices=(1, 2, 3),
        style='pytorch',
        type='ResNet'),
    bbox_head=dict(
        anchor_generator=dict(
            octave_base_scale=4,
            ratios=[0.5, 1.0, 2.0],
            scales_per_octave=3,
            strides=[8, 16, 32, 64, 128],
            type='AnchorGenerator'),
        bbox_coder=dict(
            target_means=[0.0, 0.0, 0.0, 0.0],
            target_stds=[1.0, 1.0, 1.0, 1.0],
            type='DeltaXYWHBBoxCoder'),
        feat_channels=16,
        in_channels=16,
        loss_bbox=dict(loss_weight=1.0, type='L1Loss'),
        loss_cls=dict(alpha=0.25, gamma=2.0, loss_weight=1.0, type='FocalLoss',
                      use_sigmoid=True),
        num_classes=3,
        stacked_convs=1,
        type='RetinaHead'),
    data_preprocessor=dict(
        bgr_to_rgb=True,
        mean=[123.675, 116.28, 103.53],
        pad_size_divisor=32,
        std=[58.395, 57.12, 57.375],
        type='DetDataPreprocessor'),
    neck=dict(
        add_extra_convs='on_input',
        in_channels=[128, 256, 512],
        num_outs=5,
        out_channels=16,
        start_level=0,
        type='FPN'),
    test_cfg=dict(max_per_img=100, min_bbox_size=0, nms=dict(iou_threshold=0.5, type='nms'),
                  nms_pre=1000, score_thr=0.05),
    train_cfg=dict(
        allowed_border=-1,
        assigner=dict(min_pos_iou=0, neg_iou_thr=0.4, pos_iou_thr=0.5, type='MaxIoUAssigner'),
        debug=False,
        pos_weight=-1,
        sampler=dict(type='PseudoSampler')),
    type='RetinaNet')
optim_wrapper = dict(optimizer=dict(lr=0.01, momentum=0.9, type='SGD', weight_decay=0.0001),
                     type='OptimWrapper')
resume = False
train_cfg = dict({length_key}={length}, type='{loop}', val_interval={val_interval})
train_dataloader = dict(
    batch_size=2,
    dataset=dict(ann_file='annotations/instances_train2017.json', data_root='data/coco/',
                 type='CocoDataset'),
    num_workers=2)
val_cfg = dict(type='ValLoop')
val_evaluator = dict(ann_file='data/coco/annotations/instances_val2017.json', metric='bbox',
                     type='CocoMetric')
work_dir = './work_dirs/run'
"""


def _number(value: float) -> str:
    return f'{value:.4f}'


def training_logs(loop: str, length: int, per_epoch: int, val_interval: int,
                  aps: Sequence[Optional[float]], interval: int = 50,
                  log_by_epoch: bool = True, nan_from: Optional[int] = None
                  ) -> Tuple[List[dict], List[str]]:
    """(scalars.json records, text log lines) of a run: ``length`` epochs of ``per_epoch``
    iterations (``EpochBasedTrainLoop``) or ``length`` iterations over a dataloader of
    ``per_epoch`` batches (``IterBasedTrainLoop``), validated every ``val_interval`` epochs or
    iterations with box AP ``aps[k]`` at the k-th validation (None: the metric logged nothing,
    as CocoMetric does without detections); losses NaN from iteration ``nan_from`` on."""
    by_epoch_loop = loop == 'EpochBasedTrainLoop'
    iters = length * per_epoch if by_epoch_loop else length
    records, text = [], [PREFIX + 'Config:', 'train_cfg = ...']
    aps = list(aps)
    for it in range(1, iters + 1):
        epoch, batch = (it - 1) // per_epoch + 1, (it - 1) % per_epoch + 1
        inner = batch if by_epoch_loop else it  # LoggerHook's batch_idx + 1
        end_of_epoch = batch == per_epoch and (by_epoch_loop or it == per_epoch)
        if inner % interval == 0 or end_of_epoch and per_epoch <= interval:  # ignore_last
            loss = math.nan if nan_from is not None and it >= nan_from else 2.0 / it ** 0.5
            tag = dict(lr=0.01, data_time=0.01, loss=loss, loss_cls=0.6 * loss,
                       loss_bbox=0.4 * loss, time=0.5)
            if log_by_epoch:
                tag['epoch'] = epoch if by_epoch_loop else 1  # runner.epoch + 1
            tag['iter'] = it
            records.append(dict(tag, step=it))
            values = '  '.join(f'{k}: {_number(tag[k])}' for k in ('loss', 'loss_cls',
                                                                  'loss_bbox'))
            timing = 'lr: 1.0000e-02  eta: 0:01:00  time: 0.5000  data_time: 0.0100  '
            if log_by_epoch:
                max_epochs = length if by_epoch_loop else 1
                label = f'[{tag["epoch"]}]'.rjust(len(str(max_epochs)) + 3)
                head = (f'Epoch(train){label}'
                        f'[{str(inner).rjust(len(str(per_epoch)))}/{per_epoch}]  ')
            else:
                head = f'Iter(train) [{str(it).rjust(len(str(iters)))}/{iters}]  '
            text.append(PREFIX + head + timing + values)
        done = epoch if by_epoch_loop and batch == per_epoch else None
        if by_epoch_loop and done is None:
            continue
        count = done if by_epoch_loop else it
        if count % val_interval and count != length:
            continue
        ap = aps.pop(0)
        metrics = {} if ap is None else {
            f'coco/{m}': round(ap * (1.5 if m.endswith('50') else 1.0), 4) for m in METRICS}
        step = (done if by_epoch_loop else 0) if log_by_epoch else it
        records.append(dict(metrics, data_time=0.01, time=0.1, step=step))
        shown = '  '.join(f'{k}: {_number(v)}' for k, v in metrics.items())
        head = (f'Epoch(val) [{done if by_epoch_loop else 0}][4/4]    ' if log_by_epoch else
                'Iter(val) [4/4]    ')
        text.append(PREFIX + head + (shown + '  ' if shown else '') +
                    'data_time: 0.0100  time: 0.1000')
    assert not aps, f'{len(aps)} AP values left over'
    return records, text


def write_lines(path: str, records: Sequence[dict]) -> None:
    """Append JSON lines, as LocalVisBackend does (``NaN`` for a NaN float, as json.dumps)."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'a') as f:
        f.writelines(json.dumps(r) + '\n' for r in records)


def write_session(work_dir: str, ts: str, config: str, stem: str,
                  logs: Tuple[List[dict], List[str]], vis_data: Optional[str] = None,
                  resumed: Optional[Tuple[int, int]] = None) -> None:
    """One session: its text log, and its scalars into ``vis_data`` (default: its own
    ``<ts>/vis_data``; another session's when its Runner reused that session's visualizer),
    its config dumped there and into the work dir as ``<stem>.py``."""
    records, text = logs
    folder = osp.join(work_dir, ts)
    os.makedirs(folder, exist_ok=True)
    if resumed is not None:
        text = text[:2] + [PREFIX + f'resumed epoch: {resumed[0]}, iter: {resumed[1]}'] + text[2:]
    with open(osp.join(folder, f'{ts}.log'), 'w') as f:
        f.writelines(line + '\n' for line in text)
    vis = vis_data or osp.join(folder, 'vis_data')
    write_lines(osp.join(vis, 'scalars.json'), records)
    write_lines(osp.join(vis, f'{ts}.json'), records)
    for path in (osp.join(vis, 'config.py'), osp.join(work_dir, f'{stem}.py')):
        with open(path, 'w') as f:
            f.write(config)
