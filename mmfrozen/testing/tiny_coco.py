"""A tiny COCO-format detection dataset drawn on the fly, for tests and smoke runs."""
import json
import os
import os.path as osp
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

# Distinct colours so that a tiny detector can learn something in a few steps.
_COLOURS = [(220, 40, 40), (40, 180, 60), (50, 80, 230), (230, 200, 30), (200, 60, 220),
            (30, 200, 210), (250, 140, 20), (120, 120, 120)]


@dataclass
class TinyCoco:
    """Paths and class names of a generated tiny dataset."""
    root: str
    classes: Tuple[str, ...]
    train_ann: str = 'annotations/train.json'
    val_ann: str = 'annotations/val.json'
    img_prefix: str = 'images/'


def _polygon(kind: str, x0: float, y0: float, x1: float, y1: float) -> List[float]:
    if kind == 'box':
        return [x0, y0, x1, y0, x1, y1, x0, y1]
    t = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    return [float(v) for p in zip(cx + rx * np.cos(t), cy + ry * np.sin(t)) for v in p]


def _split(root: str, name: str, n_images: int, classes: Sequence[str], size: int,
           rng: np.random.Generator, img_id0: int) -> dict:
    images, anns = [], []
    for i in range(n_images):
        img_id = img_id0 + i
        img = Image.new('RGB', (size, size), tuple(int(v) for v in rng.integers(0, 60, 3)))
        draw = ImageDraw.Draw(img)
        for _ in range(int(rng.integers(1, 4))):
            c = int(rng.integers(len(classes)))
            w, h = rng.uniform(0.25, 0.5, 2) * size
            x0, y0 = rng.uniform(0, size - w), rng.uniform(0, size - h)
            kind = 'box' if c % 2 == 0 else 'ellipse'
            poly = _polygon(kind, x0, y0, x0 + w, y0 + h)
            draw.polygon([(poly[k], poly[k + 1]) for k in range(0, len(poly), 2)],
                         fill=_COLOURS[c % len(_COLOURS)])
            anns.append(dict(id=len(anns) + 1 + img_id * 100, image_id=img_id, category_id=c + 1,
                             bbox=[float(x0), float(y0), float(w), float(h)],
                             area=float(w * h), iscrowd=0, segmentation=[poly]))
        file_name = f'{name}_{i:04d}.png'
        img.save(osp.join(root, 'images', file_name))
        images.append(dict(id=img_id, file_name=file_name, width=size, height=size))
    cats = [dict(id=i + 1, name=c) for i, c in enumerate(classes)]
    return dict(images=images, annotations=anns, categories=cats)


def make_tiny_coco(root: str, num_train: int = 8, num_val: int = 4, num_classes: int = 3,
                   size: int = 64, seed: int = 0) -> TinyCoco:
    """Write ``num_train``/``num_val`` images with boxes and polygon masks under ``root``."""
    rng = np.random.default_rng(seed)
    classes = tuple(f'shape{i}' for i in range(num_classes))
    os.makedirs(osp.join(root, 'images'), exist_ok=True)
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    data = TinyCoco(root=root, classes=classes)
    for name, n, id0, ann in (('train', num_train, 0, data.train_ann),
                              ('val', num_val, 10000, data.val_ann)):
        with open(osp.join(root, ann), 'w') as f:
            json.dump(_split(root, name, n, classes, size, rng, id0), f)
    return data
