"""The downstream set of the mini-study: COCO-format detection with an LVIS-shaped long tail.

Multi-object scenes of the shapes x textures classes (:mod:`mmfrozen.datasets.shapes`) with
background clutter and partial occlusion. In the training split the number of images that
contain a class follows a long tail with LVIS's three buckets (rare: 1-10 training images,
common: 11-100, frequent: >100), as in the LVIS experiments of "Proper Reuse of Image
Classification Features Improves Object Detection" (Vasconcelos et al., CVPR 2022). Each
category of both annotation files carries LVIS's ``frequency`` ('r'/'c'/'f'), ``image_count``
and ``instance_count`` (counted on the training split). In the validation split every class
appears in the same number of images, so that AP can be measured for every class.
"""
import json
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from pycocotools import mask as mask_utils

from .shapes import draw_background, draw_clutter
from .shapes_world import ShapesWorld
from .workers import parallel_map

_SPLIT_IDS = {'train': 11, 'val': 12}
#: LVIS v1 frequency buckets by number of training images that contain the class.
RARE_MAX, COMMON_MAX = 10, 100


def lvis_frequency(image_count: int) -> str:
    """LVIS's frequency bucket of a class seen in ``image_count`` training images."""
    if image_count <= RARE_MAX:
        return 'r'
    return 'c' if image_count <= COMMON_MAX else 'f'


@dataclass
class LongTail:
    """How many classes fall in each LVIS bucket, and their training-image-count ranges.

    Counts are spread evenly (geometrically for common and frequent) over each range. The
    default splits 32 classes about as LVIS v1 splits its 1203 (28% rare, 38% common, 34%
    frequent).
    """
    rare: int = 9
    common: int = 12
    frequent: int = 11
    rare_range: Tuple[int, int] = (1, 10)
    common_range: Tuple[int, int] = (12, 95)
    frequent_range: Tuple[int, int] = (110, 240)

    def __post_init__(self) -> None:
        for name, lo, hi in (('rare', 1, RARE_MAX), ('common', RARE_MAX + 1, COMMON_MAX),
                             ('frequent', COMMON_MAX + 1, None)):
            a, b = getattr(self, f'{name}_range')
            if a > b or a < lo or (hi is not None and b > hi):
                raise ValueError(f'{name}_range {(a, b)} is outside LVIS\'s {name} bucket '
                                 f'[{lo}, {hi if hi else "inf"})')

    @property
    def num_classes(self) -> int:
        return self.rare + self.common + self.frequent

    def image_counts(self) -> List[int]:
        """Target training-image counts, rare classes first."""
        counts = np.rint(np.linspace(*self.rare_range, self.rare)).astype(int).tolist()
        for n, (a, b) in ((self.common, self.common_range),
                          (self.frequent, self.frequent_range)):
            counts += np.rint(np.geomspace(a, b, n)).astype(int).tolist() if n else []
        return counts


@dataclass
class ShapesDetection:
    """Where a generated detection set lies (paths relative to ``root``)."""
    root: str
    classes: Tuple[str, ...]
    image_size: int
    frequency: Dict[str, str] = field(default_factory=dict)
    train_ann: str = 'annotations/train.json'
    val_ann: str = 'annotations/val.json'
    img_prefix: str = 'images/'


def _pack(tokens: List[int], rng: np.random.Generator, max_objects: int) -> List[List[int]]:
    """Group class tokens into images of 1..max_objects distinct classes each."""
    images = []
    pending = tokens
    while pending:
        k = int(rng.integers(2, max_objects + 1))
        chosen, rest = [], []
        for t in pending:
            (chosen if len(chosen) < k and t not in chosen else rest).append(t)
        images.append(chosen)
        pending = rest
    return images


def _scene(world: ShapesWorld, labels: Sequence[int], size: int, img_id: int,
           rng: np.random.Generator, object_scale: Tuple[float, float], min_visible: float,
           clutter: Tuple[int, int], max_tries: int = 40) -> Tuple[np.ndarray, List[dict]]:
    """Draw one scene; returns the canvas and the annotations of the objects that fit."""
    canvas = draw_background(size, rng, clutter=int(rng.integers(*clutter)))
    full, visible, placed = [], [], []
    for label in labels:
        for _ in range(max_tries):
            radius = size * float(rng.uniform(*object_scale))
            centre = tuple(rng.uniform(0.7 * radius, size - 0.7 * radius, 2))
            trial = canvas.copy()
            mask = world.render(trial, label, centre, radius, rng)
            if mask.sum() < 30:
                continue
            now = [v & ~mask for v in visible]
            if all(n.sum() >= min_visible * f.sum() for n, f in zip(now, full)):
                canvas, visible = trial, now + [mask]
                full.append(mask)
                placed.append(label)
                break
    anns = []
    for label, vis in zip(placed, visible):
        ys, xs = np.nonzero(vis)
        x0, y0 = int(xs.min()), int(ys.min())
        rle = mask_utils.encode(np.asfortranarray(vis.astype(np.uint8)))
        anns.append(dict(image_id=img_id, category_id=label + 1,
                         bbox=[x0, y0, int(xs.max()) - x0 + 1, int(ys.max()) - y0 + 1],
                         area=int(vis.sum()), iscrowd=0,
                         segmentation=dict(size=[size, size], counts=rle['counts'].decode())))
    return canvas, anns


def _write_scene(job: tuple) -> Tuple[dict, List[dict]]:
    """Render and save image ``i`` of ``split``; returns its image record and annotations."""
    (world, root, img_prefix, split, i, labels, seed, image_size, object_scale, min_visible,
     clutter, fg_clutter) = job
    img_id = _SPLIT_IDS[split] * 100000 + i
    img_rng = np.random.default_rng([seed, _SPLIT_IDS[split], i])
    canvas, anns = _scene(world, labels, image_size, img_id, img_rng, object_scale, min_visible,
                          clutter)
    pil = world.finish(canvas, img_rng)
    draw_clutter(pil, img_rng, int(img_rng.integers(*fg_clutter)))
    name = f'{split}_{i:05d}.png'
    pil.save(osp.join(root, img_prefix, name))
    return dict(id=img_id, file_name=name, width=image_size, height=image_size), anns


def make_shapes_detection(root: str, world: Optional[ShapesWorld] = None,
                          long_tail: Optional[LongTail] = None, val_per_class: int = 12,
                          image_size: int = 128, max_objects: int = 5,
                          object_scale: Tuple[float, float] = (0.09, 0.2),
                          min_visible: float = 0.85, clutter: Tuple[int, int] = (2, 6),
                          fg_clutter: Tuple[int, int] = (0, 2), seed: int = 0,
                          class_seed: Optional[int] = None, workers: int = 1) -> ShapesDetection:
    """Write a long-tailed COCO-format detection set under ``root``.

    Which classes are rare, common or frequent is a seeded permutation of the classes. The
    training split contains each class in (close to) its target number of images; the bucket
    written to the annotation files is computed from the actual counts. Deterministic: the same
    arguments give the same files byte for byte.

    Args:
        root: Output folder (created).
        world: Classes and rendering knobs (default: :class:`ShapesWorld`).
        long_tail: Bucket sizes and training-image-count ranges (default: :class:`LongTail`);
            its number of classes must be the world's.
        val_per_class: Validation images that contain each class.
        image_size: Side of the square images in pixels.
        max_objects: Most distinct classes in one image (2 or more).
        object_scale: Range of an object's radius, as a fraction of ``image_size``.
        min_visible: Fraction of every object's pixels that must stay visible when later
            objects are drawn over it (occlusion limit).
        clutter: Range ``[low, high)`` of background distractors per image.
        fg_clutter: Range ``[low, high)`` of distractors drawn over the objects.
        seed: Seed of everything random.
        class_seed: Seed of the class-to-bucket permutation (default: ``seed``).
        workers: Processes that render images (1: this process); the files do not depend on it.

    Returns:
        The dataset's paths, class names and each class's frequency bucket.
    """
    world = world or ShapesWorld()
    long_tail = long_tail or LongTail()
    if max_objects < 2 or val_per_class < 1 or image_size < 32:
        raise ValueError('need max_objects >= 2, val_per_class >= 1 and image_size >= 32, got '
                         f'{max_objects}, {val_per_class}, {image_size}')
    if long_tail.num_classes != world.num_classes:
        raise ValueError(f'the long tail has {long_tail.num_classes} classes, the world '
                         f'{world.num_classes} ({len(world.shapes)} shapes x '
                         f'{len(world.textures)} textures)')
    if not 0 < object_scale[0] <= object_scale[1] <= 0.5 or not 0 <= min_visible <= 1:
        raise ValueError(f'need 0 < object_scale[0] <= object_scale[1] <= 0.5 and '
                         f'0 <= min_visible <= 1, got {object_scale}, {min_visible}')
    classes = world.classes
    order = np.random.default_rng([seed if class_seed is None else class_seed, 10]).permutation(
        len(classes))
    targets = np.zeros(len(classes), int)
    targets[order] = long_tail.image_counts()
    data = ShapesDetection(root=root, classes=classes, image_size=image_size)
    os.makedirs(osp.join(root, data.img_prefix), exist_ok=True)
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    splits = {}
    for split, per_class in (('train', targets), ('val', [val_per_class] * len(classes))):
        rng = np.random.default_rng([seed, _SPLIT_IDS[split]])
        tokens = [c for c, n in enumerate(per_class) for _ in range(int(n))]
        tokens = [tokens[i] for i in rng.permutation(len(tokens))]
        jobs = []
        for i, labels in enumerate(_pack(tokens, rng, max_objects)):
            img_rng = np.random.default_rng([seed, _SPLIT_IDS[split], i, 1])
            # a second instance of some classes; the rarest classes are placed first
            labels = sorted(labels + [c for c in labels if img_rng.random() < 0.2],
                            key=lambda c: (per_class[c], c))
            jobs.append((world, root, data.img_prefix, split, i, labels, seed, image_size,
                         tuple(object_scale), min_visible, tuple(clutter), tuple(fg_clutter)))
        images, anns = [], []
        for image, img_anns in parallel_map(_write_scene, jobs, workers):
            images.append(image)
            for a in img_anns:
                anns.append(dict(id=len(anns) + 1, **a))
        splits[split] = dict(images=images, annotations=anns)
    train = splits['train']['annotations']
    img_count = [len({a['image_id'] for a in train if a['category_id'] == c + 1})
                 for c in range(len(classes))]
    inst_count = [sum(a['category_id'] == c + 1 for a in train) for c in range(len(classes))]
    cats = [dict(id=c + 1, name=name, frequency=lvis_frequency(img_count[c]),
                 image_count=img_count[c], instance_count=inst_count[c])
            for c, name in enumerate(classes)]
    data.frequency = {c['name']: c['frequency'] for c in cats}
    for split, ann in (('train', data.train_ann), ('val', data.val_ann)):
        coco = dict(info=dict(description=f'mmfrozen shapes detection, {split}, seed {seed}'),
                    categories=cats, **splits[split])
        with open(osp.join(root, ann), 'w') as f:
            json.dump(coco, f, sort_keys=True, separators=(',', ':'))
    return data
