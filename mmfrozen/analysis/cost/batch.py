"""Synthetic training batches for the training-cost benchmark.

A batch looks exactly like what a detection dataloader yields after ``PackDetInputs``: a list of
uint8 CHW images and a list of :class:`~mmdet.structures.DetDataSample` with boxes, labels and,
for models with a mask head, bitmap masks. The detector's own data preprocessor then normalises
and pads it, as in training.
"""
from typing import Dict, List, Tuple

import numpy as np
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.structures import InstanceData


def synthetic_batch(batch_size: int,
                    image_size: Tuple[int, int],
                    num_classes: int,
                    num_boxes: int = 8,
                    with_mask: bool = False,
                    seed: int = 0) -> Dict[str, List]:
    """A reproducible random batch of ``batch_size`` images of ``image_size`` (h, w).

    Boxes cover 5-50% of each side, so every FPN level and every RoI stage gets positives.
    """
    if batch_size < 1 or num_boxes < 1:
        raise ValueError(f'batch_size and num_boxes must be >= 1, got {batch_size}, {num_boxes}')
    h, w = (int(v) for v in image_size)
    rng = np.random.default_rng(seed)
    inputs, samples = [], []
    for i in range(batch_size):
        inputs.append(torch.from_numpy(rng.integers(0, 256, (3, h, w), dtype=np.uint8)))
        sample = DetDataSample(metainfo=dict(
            img_id=i, img_path=f'<synthetic {i}>', ori_shape=(h, w), img_shape=(h, w),
            scale_factor=(1.0, 1.0), flip=False, flip_direction=None))
        wh = rng.uniform(0.05, 0.5, (num_boxes, 2)) * (w, h)
        xy = rng.uniform(0, 1, (num_boxes, 2)) * ((w, h) - wh)
        boxes = np.concatenate([xy, xy + wh], axis=1).astype(np.float32)
        gt = InstanceData()
        gt.bboxes = torch.from_numpy(boxes)
        gt.labels = torch.from_numpy(rng.integers(0, num_classes, num_boxes)).long()
        if with_mask:
            masks = np.zeros((num_boxes, h, w), dtype=np.uint8)
            for k, (x0, y0, x1, y1) in enumerate(boxes.astype(int)):
                masks[k, y0:y1 + 1, x0:x1 + 1] = 1
            gt.masks = BitmapMasks(masks, h, w)
        sample.gt_instances = gt
        sample.ignored_instances = InstanceData(bboxes=torch.zeros((0, 4)))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)
