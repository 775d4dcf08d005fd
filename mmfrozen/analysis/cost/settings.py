"""What the training-cost benchmark reads from a config: image size, batch size, variants.

The config edits of the benchmark's variants (pretrained loading off, stock mmdet freezing, the
frozen backbone's precision) are in :mod:`mmfrozen.config.edits`; the fine-tuned twin is
found by the naming rule of :mod:`mmfrozen.config.name`.
"""
from typing import List, Optional, Tuple

from mmengine.config import Config, ConfigDict


def parse_precision_variant(name: str) -> Tuple[str, bool]:
    """``'bf16-cl'`` -> ``('bf16', True)``; ``'fp16'`` -> ``('fp16', False)``.

    Raises:
        ValueError: unknown precision.
    """
    precision, _, suffix = name.partition('-')
    if precision not in ('fp32', 'bf16', 'fp16') or suffix not in ('', 'cl'):
        raise ValueError(f'unknown frozen-backbone variant {name!r}: use fp32|bf16|fp16, '
                         'optionally with "-cl" for channels-last (e.g. bf16-cl)')
    if precision == 'fp32' and not suffix:
        raise ValueError('fp32 without channels-last is the config itself; use fp32-cl')
    return precision, suffix == 'cl'


def _train_pipeline(cfg: Config) -> List[dict]:
    loader = cfg.get('train_dataloader') or {}
    ds = loader.get('dataset', {}) or {}
    while 'pipeline' not in ds and 'dataset' in ds:
        ds = ds['dataset']
    pipeline = ds.get('pipeline') or cfg.get('train_pipeline') or []
    return list(pipeline)


def training_image_size(cfg: Config) -> Tuple[int, int]:
    """The largest training image (h, w) the config feeds its model.

    A ``BatchFixedSizePad`` batch augment of the data preprocessor sets it (LSJ configs pad every
    batch to it); otherwise the last crop of the train pipeline (``RandomCrop`` of type
    ``absolute`` or ``absolute_range``, ``FixedShapeResize``), otherwise the largest
    ``Resize``/``RandomResize`` scale (mmdet's ``scale`` is ``(w, h)``; with ``keep_ratio`` the
    image fits inside it, so the scale is the upper bound).

    Raises:
        ValueError: the size cannot be read (a relative crop, no resize at all).
    """
    for aug in cfg.model.get('data_preprocessor', {}).get('batch_augments') or []:
        if aug.get('type') == 'BatchFixedSizePad':
            return (int(aug['size'][0]), int(aug['size'][1]))
    size: Optional[Tuple[int, int]] = None
    for t in _train_pipeline(cfg):
        kind = t.get('type', '')
        kind = kind if isinstance(kind, str) else getattr(kind, '__name__', '')
        if kind == 'RandomCrop':
            crop, crop_type = t['crop_size'], t.get('crop_type', 'absolute')
            if crop_type == 'absolute':
                size = (int(crop[0]), int(crop[1]))  # (h, w)
            elif crop_type == 'absolute_range':
                size = (int(crop[1]), int(crop[1]))  # h and w drawn from [crop[0], crop[1]]
            else:
                size = None  # relative crop: the resize before it decides, read no further
                break
        elif kind == 'FixedShapeResize':
            size = (int(t['height']), int(t['width']))
        elif kind in ('Resize', 'RandomResize', 'RandomChoiceResize'):
            scales = t.get('scale') or t.get('scales')
            if isinstance(scales, (list, tuple)) and scales and isinstance(
                    scales[0], (list, tuple)):
                scales = max(scales, key=lambda s: s[0] * s[1])
            if scales is not None:
                w, h = scales
                ratio = t.get('ratio_range')
                if kind == 'RandomResize' and ratio:
                    w, h = w * ratio[1], h * ratio[1]
                size = (int(h), int(w))
    if size is None:
        raise ValueError('cannot read the training resolution from the config (no '
                         'BatchFixedSizePad, absolute crop or resize in the train pipeline); '
                         'pass --image-size H W')
    return size


def training_batch_size(cfg: Config) -> int:
    """``train_dataloader.batch_size`` of the config (images per GPU)."""
    loader = cfg.get('train_dataloader') or ConfigDict()
    if 'batch_size' not in loader:
        raise ValueError('the config has no train_dataloader.batch_size; pass --batch-size')
    return int(loader['batch_size'])
