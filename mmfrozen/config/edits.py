"""Edits of a loaded config that the tools, the mini-study and the tests share.

Each function changes an :class:`mmengine.config.Config` (or one of its dicts) in place and
changes nothing else: the model, losses, optimizer and hooks stay those of the config.
"""
import inspect
from typing import Any, Callable, List, Tuple

from .freeze import freeze_hook_cfgs
from .pretrained import is_pretrained_init, pretrained_argument

#: The key that holds the size, per resize / crop / pad transform and batch augment.
_SCALE_KEYS = {'Resize': 'scale', 'RandomResize': 'scale', 'RandomCrop': 'crop_size',
               'Pad': 'size', 'FixScaleResize': 'scale', 'BatchFixedSizePad': 'size'}


def walk_dicts(node: Any, fn: Callable[[dict], None]) -> None:
    """Call ``fn`` on every dict inside ``node`` (dicts, lists and tuples, depth first)."""
    if isinstance(node, dict):
        fn(node)
        for value in node.values():
            walk_dicts(value, fn)
    elif isinstance(node, (list, tuple)):
        for value in node:
            walk_dicts(value, fn)


def disable_pretrained(cfg: Any) -> List[str]:
    """Drop every Pretrained ``init_cfg`` entry in ``cfg.model``, ``load_from`` and ``resume``.

    For tools that build a model without its weights (no download). Other ``init_cfg``
    entries (e.g. Kaiming) are kept; a module's own ``pretrained=True`` becomes False and
    ``pretrained='<path>'`` None. Returns the paths of the dicts that lost one, e.g.
    ``['backbone']``.
    """
    removed = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            init_cfg = node.get('init_cfg')
            inits = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
            if any(is_pretrained_init(c) for c in inits):
                kept = [c for c in inits if c is not None and not is_pretrained_init(c)]
                node['init_cfg'] = (kept or None) if isinstance(init_cfg, (list, tuple)) else None
                removed.append(path or 'model')
            if pretrained_argument(node) is not None:
                node['pretrained'] = False if node['pretrained'] is True else None
                removed.append(path or 'model')
            for key, value in node.items():
                walk(value, f'{path}.{key}' if path else str(key))
        elif isinstance(node, (list, tuple)):
            for i, value in enumerate(node):
                walk(value, f'{path}[{i}]')

    walk(cfg.model, '')
    cfg.load_from = None
    cfg.resume = False
    return removed


def innermost_dataset(node: dict) -> dict:
    """The dataset config a dataloader (or dataset wrapper) config finally reads.

    Follows ``dataset`` keys through wrappers (``RepeatDataset``, ``ClassBalancedDataset``,
    ``MultiImageMixDataset``); ``node`` itself when it has none.
    """
    while isinstance(node, dict) and isinstance(node.get('dataset'), dict):
        node = node['dataset']
    return node


def dataset_repeats(node: dict) -> int:
    """How many passes over its data one epoch of a dataloader (or dataset wrapper) config
    makes: the product of the ``times`` of the ``RepeatDataset`` wrappers on the way to
    :func:`innermost_dataset`; 1 without one."""
    repeats = 1
    while isinstance(node, dict) and isinstance(node.get('dataset'), dict):
        if str(node.get('type', '')).rsplit('.', 1)[-1] == 'RepeatDataset' \
                and isinstance(node.get('times'), int):
            repeats *= node['times']
        node = node['dataset']
    return repeats


def set_num_classes(model_cfg: dict, num_classes: int) -> None:
    """Set every ``num_classes`` inside a model config (all heads and stages)."""
    def fn(d: dict) -> None:
        if 'num_classes' in d:
            d['num_classes'] = num_classes
    walk_dicts(model_cfg, fn)


def set_image_scale(cfg: Any, scale: Tuple[int, int]) -> None:
    """Make every resize/crop/pad transform and batch augment of ``cfg`` work at ``scale``."""
    def fn(d: dict) -> None:
        key = _SCALE_KEYS.get(d.get('type'))
        if key and key in d:
            d[key] = tuple(scale)
        if d.get('type') == 'RandomChoiceResize':
            d['scales'] = [tuple(scale)]
        if d.get('type') == 'RandomResize' and 'ratio_range' in d:
            d['ratio_range'] = (0.8, 1.25)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader', 'train_pipeline',
                'test_pipeline'):
        if key in cfg:
            walk_dicts(cfg[key], fn)
    walk_dicts(cfg.model.get('data_preprocessor', {}), fn)


def rescale_schedule(cfg: Any, max_iters: int) -> None:
    """Train an iteration-based config for ``max_iters`` iterations, its schedule's shape kept.

    Validation and the checkpoint happen at the end, the logger logs at least once, and every
    ``param_scheduler`` entry's ``begin``, ``end`` and ``milestones`` scale by
    ``max_iters / train_cfg.max_iters`` (warm-up and LR drops stay at the same fraction).

    Raises:
        ValueError: the config's ``train_cfg`` has no ``max_iters`` (an epoch-based loop).
    """
    old = cfg.train_cfg.get('max_iters')
    if not old:
        raise ValueError('rescale_schedule needs an iteration-based train_cfg (max_iters); '
                         f'got {dict(cfg.train_cfg)}')
    cfg.train_cfg.max_iters = cfg.train_cfg.val_interval = max_iters
    cfg.default_hooks.checkpoint.interval = max_iters
    logger = cfg.default_hooks.get('logger')
    if logger is not None and logger.get('interval', 0) > max_iters:
        logger.interval = max_iters
    for sched in cfg.get('param_scheduler') or []:
        for key in ('begin', 'end'):
            if key in sched:
                sched[key] = int(round(sched[key] * max_iters / old))
        if 'milestones' in sched:
            sched['milestones'] = [int(round(m * max_iters / old)) for m in sched['milestones']]


def stock_frozen_stages(cfg: Any) -> Any:
    """Stock mmdet's way of freezing: ``frozen_stages=num_stages``, ``norm_eval=True``, no hook.

    Raises:
        ValueError: the config already freezes with mmfrozen, or the backbone has no
            ``frozen_stages`` argument.
    """
    if freeze_hook_cfgs(cfg.get('custom_hooks')):
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


def set_freeze_precision(cfg: Any, precision: str, channels_last: bool) -> Any:
    """Run every frozen module of ``cfg`` at ``precision``, optionally channels-last.

    Raises:
        ValueError: ``cfg`` has no freeze hook.
    """
    hooks = freeze_hook_cfgs(cfg.get('custom_hooks'))
    if not hooks:
        raise ValueError('--frozen-precision needs a frozen config (a FreezeHook in custom_hooks)')
    for hook in hooks:
        hook['precision'] = precision
        hook['channels_last'] = channels_last
    return cfg
