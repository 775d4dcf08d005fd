"""Config-level helpers of the training-cost benchmark: run mode, twins and derived variants.

Everything here edits a :class:`mmengine.config.Config` in place and returns it; nothing builds a
model. The mode of a run is read from its config (never from its name); the fine-tuned twin of a
config is found by the project's naming rule.
"""
import inspect
import os.path as osp
from typing import Any, List, Optional, Tuple

from mmengine.config import Config, ConfigDict

#: Modes a config name can carry in its backbone part, longest first.
NAME_MODES = ('frozen-adapters', 'frozen-lora', 'frozen', 'scratch', 'ft')
_PRETRAINED_TYPES = ('Pretrained', 'PretrainedInit')


def freeze_hook_cfgs(cfg: Config) -> List[dict]:
    """The entries of ``cfg.custom_hooks`` whose class is ``FreezeHook`` or a subclass."""
    import mmfrozen  # noqa: F401  (registers the hooks)
    from ..engine.config_mode import freeze_hook_cfgs as _freeze_hook_cfgs
    return _freeze_hook_cfgs(cfg.get('custom_hooks'))


def run_mode(cfg: Config) -> str:
    """``'ft'``, ``'frozen'``, ``'frozen-adapters'`` or ``'scratch'``, read from the config
    (:func:`mmfrozen.engine.config_mode.config_mode`)."""
    import mmfrozen  # noqa: F401
    from ..engine.config_mode import config_mode
    return config_mode(cfg)


def name_mode(config_path: str) -> Tuple[str, str]:
    """Split a config file name into (backbone architecture, mode) by the naming rule.

    Raises:
        ValueError: the name has no backbone part with a mode (``r50-frozen`` etc.).
    """
    stem = osp.splitext(osp.basename(config_path))[0]
    parts = stem.split('_')
    if len(parts) >= 2:
        for mode in NAME_MODES:
            if parts[1].endswith('-' + mode):
                return parts[1][:-len(mode) - 1], mode
    raise ValueError(
        f'{osp.basename(config_path)!r} does not follow the naming rule '
        '{algorithm}_{backbone}-{mode}_{neck}_{schedule}_{dataset}.py with mode one of '
        f'{list(NAME_MODES)} (e.g. faster-rcnn_r50-frozen_fpn_1x_coco.py), so its fine-tuned twin '
        'cannot be found. Rename it, or pass the fine-tuned config explicitly.')


def twin_config_path(config_path: str) -> str:
    """Path of the fine-tuned twin of a non-``ft`` config (same directory, mode -> ``ft``).

    Raises:
        ValueError: the config is itself the fine-tuned one, or its name has no mode.
        FileNotFoundError: the twin file does not exist.
    """
    arch, mode = name_mode(config_path)
    if mode == 'ft':
        raise ValueError(f'{osp.basename(config_path)!r} is already the fine-tuned config; '
                         '--twin pairs a frozen/adapters/scratch config with its ft twin. Pass '
                         'the frozen config instead.')
    stem = osp.splitext(osp.basename(config_path))[0]
    parts = stem.split('_')
    parts[1] = f'{arch}-ft'
    twin = osp.join(osp.dirname(config_path), '_'.join(parts) + '.py')
    if not osp.isfile(twin):
        raise FileNotFoundError(f'the fine-tuned twin of {config_path} should be {twin}, which '
                                'does not exist. Write it (the same config with the mode "ft") '
                                'or drop --twin/--stock.')
    return twin


def disable_pretrained(cfg: Config) -> Config:
    """Drop every Pretrained ``init_cfg`` in ``cfg.model`` and ``load_from`` (no download)."""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            init_cfg = node.get('init_cfg')
            if isinstance(init_cfg, dict) and init_cfg.get('type') in _PRETRAINED_TYPES:
                node['init_cfg'] = None
            elif isinstance(init_cfg, (list, tuple)):
                node['init_cfg'] = [
                    c for c in init_cfg
                    if not (isinstance(c, dict) and c.get('type') in _PRETRAINED_TYPES)
                ] or None
            for value in node.values():
                walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)

    walk(cfg.model)
    cfg.load_from = None
    cfg.resume = False
    return cfg


def stock_frozen_stages(cfg: Config) -> Config:
    """Stock mmdet's way of freezing: ``frozen_stages=num_stages``, ``norm_eval=True``, no hook.

    Raises:
        ValueError: the config already freezes with mmfrozen, or the backbone has no
            ``frozen_stages`` argument.
    """
    if freeze_hook_cfgs(cfg):
        raise ValueError('stock_frozen_stages needs the fine-tuned config (no freeze hook)')
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    backbone = cfg.model.backbone
    cls = MODELS.get(backbone['type'])
    if cls is None or 'frozen_stages' not in inspect.signature(cls.__init__).parameters:
        raise ValueError(f'--stock measures mmdet\'s frozen_stages, which backbone type '
                         f'{backbone["type"]!r} does not have. Drop --stock for this config.')
    num_stages = backbone.get('num_stages',
                              inspect.signature(cls.__init__).parameters.get('num_stages'))
    if isinstance(num_stages, inspect.Parameter):
        num_stages = num_stages.default
    backbone['frozen_stages'] = int(num_stages)
    backbone['norm_eval'] = True
    return cfg


def set_freeze_precision(cfg: Config, precision: str, channels_last: bool) -> Config:
    """Run every frozen module of ``cfg`` at ``precision``, optionally channels-last.

    Raises:
        ValueError: ``cfg`` has no freeze hook.
    """
    hooks = freeze_hook_cfgs(cfg)
    if not hooks:
        raise ValueError('--frozen-precision needs a frozen config (a FreezeHook in custom_hooks)')
    for hook in hooks:
        hook['precision'] = precision
        hook['channels_last'] = channels_last
    return cfg


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
