"""Stage 1: the study's two data sets, generated once per design and data seed (cached)."""
import json
import os.path as osp
from typing import Tuple

from .. import datasets as _datasets
from ..datasets import (ShapesClassification, ShapesDetection, make_shapes_classification,
                        make_shapes_detection)
from . import cache
from .design import StudyDesign


def data_key(design: StudyDesign, data_seed: int) -> str:
    """Cache key of the data: the design's data fields, the seed, the generators' code and the
    code here that calls them."""
    return cache.digest(dict(design=design.data_dict(), data_seed=data_seed),
                        cache.source_files(osp.dirname(_datasets.__file__))
                        + [osp.abspath(__file__)])


def generate(root: str, design: StudyDesign, data_seed: int,
             workers: int = 1) -> Tuple[ShapesClassification, ShapesDetection]:
    """Write the upstream set under ``root/classification`` and the downstream set under
    ``root/detection``; byte for byte the same for the same design and seed."""
    cls = make_shapes_classification(
        osp.join(root, 'classification'), design.world,
        train_per_class=design.cls_train_per_class, val_per_class=design.cls_val_per_class,
        image_size=design.cls_image_size, seed=data_seed, workers=workers)
    det = make_shapes_detection(
        osp.join(root, 'detection'), design.world, design.long_tail,
        val_per_class=design.det_val_per_class, image_size=design.det_image_size,
        min_visible=design.det_min_visible, seed=data_seed, workers=workers)
    return cls, det


def read(root: str, design: StudyDesign) -> Tuple[ShapesClassification, ShapesDetection]:
    """The data sets :func:`generate` wrote under ``root``, read back.

    Raises:
        FileNotFoundError: a file is missing.
        ValueError: the files hold other classes than the design's world.
    """
    classes = design.world.classes
    cls = ShapesClassification(root=osp.join(root, 'classification'), classes=classes,
                               image_size=design.cls_image_size)
    det = ShapesDetection(root=osp.join(root, 'detection'), classes=classes,
                          image_size=design.det_image_size)
    for path in (osp.join(cls.root, cls.train_ann), osp.join(det.root, det.val_ann)):
        if not osp.exists(path):
            raise FileNotFoundError(f'{path} is missing: rebuild the data (--fresh)')
    with open(osp.join(det.root, det.val_ann)) as f:
        cats = json.load(f)['categories']
    if tuple(c['name'] for c in cats) != classes:
        raise ValueError(f'{det.root} holds other classes than the design; rebuild it (--fresh)')
    det.frequency = {c['name']: c['frequency'] for c in cats}
    return cls, det


def study_data(cache_root: str, design: StudyDesign, data_seed: int, fresh: bool = False,
               workers: int = 1) -> Tuple[ShapesClassification, ShapesDetection, str, bool]:
    """The data of ``design`` and ``data_seed``, from the cache or generated into it.

    Returns:
        The two data sets, the cache entry's folder and whether it was reused.
    """
    key = data_key(design, data_seed)
    root = cache.entry(cache_root, 'data', key)
    if fresh:
        cache.clear(root)
    if cache.complete(root) is not None:
        return (*read(root, design), root, True)
    cache.clear(root)  # an unfinished build
    cls, det = generate(root, design, data_seed, workers=workers)
    cache.finish(root, dict(key=key, data_seed=data_seed, design=design.data_dict()))
    return cls, det, root, False
