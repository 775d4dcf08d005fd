"""The mini-study's two data sets, full size or quick, generated under one folder."""
import os.path as osp
from dataclasses import dataclass
from typing import Tuple

from ..datasets import (LongTail, ShapesClassification, ShapesDetection,
                        make_shapes_classification, make_shapes_detection)


@dataclass
class DataPreset:
    """Sizes of the generated data.

    The full preset has 48 classes: 6144 + 768 classification images of 32 px, and a detection
    set of about 970 training images of 128 px (14 rare, 19 common, 15 frequent classes) with
    12 validation images per class. The quick preset keeps the three LVIS buckets with 12
    classes and 64-px images, for the test suite.
    """
    num_classes: int
    cls_train_per_class: int
    cls_val_per_class: int
    cls_image_size: int
    long_tail: LongTail
    det_val_per_class: int
    det_image_size: int


FULL = DataPreset(num_classes=48, cls_train_per_class=128, cls_val_per_class=16,
                  cls_image_size=32, long_tail=LongTail(), det_val_per_class=12,
                  det_image_size=128)
QUICK = DataPreset(num_classes=12, cls_train_per_class=12, cls_val_per_class=4,
                   cls_image_size=32,
                   long_tail=LongTail(rare=4, common=4, frequent=4, rare_range=(1, 10),
                                      common_range=(11, 20), frequent_range=(101, 104)),
                   det_val_per_class=4, det_image_size=64)


def make_study_data(root: str, preset: DataPreset,
                    seed: int = 0) -> Tuple[ShapesClassification, ShapesDetection]:
    """Generate the upstream set under ``root/classification`` and the downstream set under
    ``root/detection``; byte-for-byte the same for the same ``preset`` and ``seed``."""
    if preset.long_tail.num_classes != preset.num_classes:
        raise ValueError(f'the long tail has {preset.long_tail.num_classes} classes, the preset '
                         f'{preset.num_classes}')
    cls = make_shapes_classification(
        osp.join(root, 'classification'), num_classes=preset.num_classes,
        train_per_class=preset.cls_train_per_class, val_per_class=preset.cls_val_per_class,
        image_size=preset.cls_image_size, seed=seed)
    det = make_shapes_detection(
        osp.join(root, 'detection'), long_tail=preset.long_tail,
        val_per_class=preset.det_val_per_class, image_size=preset.det_image_size, seed=seed)
    return cls, det


def data_sets(root: str, preset: DataPreset) -> Tuple[ShapesClassification, ShapesDetection]:
    """The data sets ``make_study_data(root, preset)`` wrote earlier, read back from disk.

    Raises:
        FileNotFoundError: nothing was generated under ``root``.
    """
    import json

    from ..datasets import class_names
    classes = class_names(preset.num_classes)
    cls = ShapesClassification(root=osp.join(root, 'classification'), classes=classes,
                               image_size=preset.cls_image_size)
    det = ShapesDetection(root=osp.join(root, 'detection'), classes=classes,
                          image_size=preset.det_image_size)
    for path in (osp.join(cls.root, cls.train_ann), osp.join(det.root, det.val_ann)):
        if not osp.exists(path):
            raise FileNotFoundError(f'{path} is missing: generate the data again (drop --reuse)')
    with open(osp.join(det.root, det.val_ann)) as f:
        cats = json.load(f)['categories']
    if [c['name'] for c in cats] != list(classes):
        raise ValueError(f'{det.root} holds other classes than the preset; drop --reuse')
    det.frequency = {c['name']: c['frequency'] for c in cats}
    return cls, det
