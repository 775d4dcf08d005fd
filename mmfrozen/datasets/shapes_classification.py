"""The upstream set of the mini-study: balanced classification of shapes x textures.

Plays the role ImageNet plays in "Proper Reuse of Image Classification Features Improves
Object Detection" (Vasconcelos et al., CVPR 2022): a balanced classification set over the same
classes the detector later meets with a long-tailed frequency. Written in mmpretrain's
``CustomDataset`` annotation-file format (``<relative path> <label>`` per line).
"""
import os
import os.path as osp
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np

from .shapes import draw_background
from .shapes_world import ShapesWorld
from .workers import parallel_map

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


def _write_image(job: tuple) -> str:
    world, root, split, i, seed, image_size, object_scale, clutter = job
    label = i % world.num_classes
    rng = np.random.default_rng([seed, _SPLIT_IDS[split], i])
    canvas = draw_background(image_size, rng, clutter=int(rng.integers(*clutter)))
    radius = image_size * float(rng.uniform(*object_scale))
    centre = tuple(image_size / 2 + rng.uniform(-0.12, 0.12, 2) * image_size)
    world.render(canvas, label, centre, radius, rng)
    name = f'{split}_{i:05d}.png'
    world.finish(canvas, rng).save(osp.join(root, 'images', name))
    return f'{name} {label}\n'


def make_shapes_classification(root: str, world: Optional[ShapesWorld] = None,
                               train_per_class: int = 64, val_per_class: int = 16,
                               image_size: int = 64,
                               object_scale: Tuple[float, float] = (0.28, 0.47),
                               clutter: Tuple[int, int] = (2, 7), seed: int = 0,
                               workers: int = 1) -> ShapesClassification:
    """Write a balanced classification set of centred, cluttered shapes under ``root``.

    Each image holds one object of its class, its radius ``object_scale`` of the image side, at
    a random offset, rotation, aspect ratio and colouring, over a background with ``clutter``
    (a ``[low, high)`` range) distractors. Deterministic: the same arguments give the same files
    byte for byte, whatever ``workers``.

    Args:
        root: Output folder (created).
        world: Classes and rendering knobs (default: :class:`ShapesWorld`).
        train_per_class: Training images per class.
        val_per_class: Validation images per class.
        image_size: Side of the square images in pixels.
        object_scale: Range of the object's radius, as a fraction of ``image_size``.
        clutter: Range ``[low, high)`` of the number of distractors per image.
        seed: Seed of everything random.
        workers: Processes that render images (1: this process).

    Returns:
        The dataset's paths and class names.
    """
    world = world or ShapesWorld()
    if train_per_class < 1 or val_per_class < 1 or image_size < 16:
        raise ValueError('need train_per_class >= 1, val_per_class >= 1 and image_size >= 16, '
                         f'got {train_per_class}, {val_per_class}, {image_size}')
    if not 0 < object_scale[0] <= object_scale[1] <= 0.5 or not 0 <= clutter[0] < clutter[1]:
        raise ValueError(f'need 0 < object_scale[0] <= object_scale[1] <= 0.5 and '
                         f'0 <= clutter[0] < clutter[1], got {object_scale}, {clutter}')
    data = ShapesClassification(root=root, classes=world.classes, image_size=image_size)
    os.makedirs(osp.join(root, data.img_prefix), exist_ok=True)
    for split, per_class, ann in (('train', train_per_class, data.train_ann),
                                  ('val', val_per_class, data.val_ann)):
        jobs: List[tuple] = [(world, root, split, i, seed, image_size, tuple(object_scale),
                              tuple(clutter)) for i in range(per_class * world.num_classes)]
        lines = parallel_map(_write_image, jobs, workers)
        with open(osp.join(root, ann), 'w') as f:
            f.writelines(lines)
    return data
