"""The upstream set of the mini-study: balanced classification of shapes x textures.

Plays the role ImageNet plays in "Proper Reuse of Image Classification Features Improves
Object Detection" (Vasconcelos et al., CVPR 2022): a balanced classification set over the same
classes the detector later meets with a long-tailed frequency. Written in mmpretrain's
``CustomDataset`` annotation-file format (``<relative path> <label>`` per line).
"""
import os
import os.path as osp
from dataclasses import dataclass
from typing import Tuple

import numpy as np

from .shapes import class_names, draw_background, finish, render_object

_SPLIT_IDS = {'train': 1, 'val': 2}


@dataclass
class ShapesClassification:
    """Where a generated classification set lies (paths relative to ``root``)."""
    root: str
    classes: Tuple[str, ...]
    image_size: int
    train_ann: str = 'train.txt'
    val_ann: str = 'val.txt'
    img_prefix: str = 'images/'


def make_shapes_classification(root: str, num_classes: int = 48, train_per_class: int = 64,
                               val_per_class: int = 16, image_size: int = 32,
                               seed: int = 0) -> ShapesClassification:
    """Write a balanced classification set of centred, cluttered shapes under ``root``.

    Each image holds one object of its class, 55-95% of the image wide, at a random offset,
    rotation, aspect ratio and colouring, over a cluttered background. Deterministic: the same
    arguments give the same files byte for byte.

    Args:
        root: Output folder (created).
        num_classes: Number of classes (at most 48).
        train_per_class: Training images per class.
        val_per_class: Validation images per class.
        image_size: Side of the square images in pixels.
        seed: Seed of everything random.

    Returns:
        The dataset's paths and class names.
    """
    if train_per_class < 1 or val_per_class < 1 or image_size < 16:
        raise ValueError('need train_per_class >= 1, val_per_class >= 1 and image_size >= 16, '
                         f'got {train_per_class}, {val_per_class}, {image_size}')
    classes = class_names(num_classes)
    data = ShapesClassification(root=root, classes=classes, image_size=image_size)
    os.makedirs(osp.join(root, data.img_prefix), exist_ok=True)
    for split, per_class, ann in (('train', train_per_class, data.train_ann),
                                  ('val', val_per_class, data.val_ann)):
        lines = []
        for i in range(per_class * num_classes):
            label = i % num_classes
            rng = np.random.default_rng([seed, _SPLIT_IDS[split], i])
            canvas = draw_background(image_size, rng, clutter=int(rng.integers(2, 7)))
            radius = image_size * float(rng.uniform(0.28, 0.47))
            centre = tuple(image_size / 2 + rng.uniform(-0.12, 0.12, 2) * image_size)
            render_object(canvas, classes[label], centre, radius, rng)
            name = f'{split}_{i:05d}.png'
            finish(canvas, rng).save(osp.join(root, data.img_prefix, name))
            lines.append(f'{name} {label}\n')
        with open(osp.join(root, ann), 'w') as f:
            f.writelines(lines)
    return data
