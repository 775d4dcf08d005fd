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
from typing import Dict, List, Sequence, Tuple

import numpy as np
from pycocotools import mask as mask_utils

from .shapes import class_names, draw_background, draw_clutter, finish, render_object

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

    Counts are spread evenly (geometrically for common and frequent) over each range.
    """
    rare: int = 14
    common: int = 19
    frequent: int = 15
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


def _scene(classes: Sequence[str], labels: Sequence[int], size: int, img_id: int,
           rng: np.random.Generator, max_tries: int = 40) -> Tuple[np.ndarray, List[dict]]:
    """Draw one scene; returns the canvas and the annotations of the objects that fit."""
    canvas = draw_background(size, rng, clutter=int(rng.integers(4, 12)))
    full, visible, placed = [], [], []
    for label in labels:
        for _ in range(max_tries):
            radius = size * float(rng.uniform(0.09, 0.2))
            centre = tuple(rng.uniform(0.7 * radius, size - 0.7 * radius, 2))
            trial = canvas.copy()
            mask = render_object(trial, classes[label], centre, radius, rng)
            if mask.sum() < 30:
                continue
            now = [v & ~mask for v in visible]
            if all(n.sum() >= 0.5 * f.sum() for n, f in zip(now, full)):
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


def make_shapes_detection(root: str, long_tail: LongTail = None, val_per_class: int = 12,
                          image_size: int = 128, max_objects: int = 5, seed: int = 0,
                          class_seed: int = None) -> ShapesDetection:
    """Write a long-tailed COCO-format detection set under ``root``.

    Which classes are rare, common or frequent is a seeded permutation of the classes. The
    training split contains each class in (close to) its target number of images; the bucket
    written to the annotation files is computed from the actual counts. Deterministic: the same
    arguments give the same files byte for byte.

    Args:
        root: Output folder (created).
        long_tail: Bucket sizes and training-image-count ranges (default: 48 classes).
        val_per_class: Validation images that contain each class.
        image_size: Side of the square images in pixels.
        max_objects: Most distinct classes in one image (2 or more).
        seed: Seed of everything random.
        class_seed: Seed of the class-to-bucket permutation (default: ``seed``).

    Returns:
        The dataset's paths, class names and each class's frequency bucket.
    """
    long_tail = long_tail or LongTail()
    if max_objects < 2 or val_per_class < 1 or image_size < 32:
        raise ValueError('need max_objects >= 2, val_per_class >= 1 and image_size >= 32, got '
                         f'{max_objects}, {val_per_class}, {image_size}')
    classes = class_names(long_tail.num_classes)
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
        images, anns = [], []
        for i, labels in enumerate(_pack(tokens, rng, max_objects)):
            img_id = _SPLIT_IDS[split] * 100000 + i
            img_rng = np.random.default_rng([seed, _SPLIT_IDS[split], i])
            # a second instance of some classes; the rarest classes are placed first
            labels = sorted(labels + [c for c in labels if img_rng.random() < 0.2],
                            key=lambda c: (per_class[c], c))
            canvas, img_anns = _scene(classes, labels, image_size, img_id, img_rng)
            pil = finish(canvas, img_rng)
            draw_clutter(pil, img_rng, int(img_rng.integers(0, 3)))
            name = f'{split}_{i:05d}.png'
            pil.save(osp.join(root, data.img_prefix, name))
            images.append(dict(id=img_id, file_name=name, width=image_size, height=image_size))
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
