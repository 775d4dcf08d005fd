"""Whether a config's modules start from pretrained weights, read without building the model.

What a config asks for: an ``init_cfg`` of type Pretrained, a module's own ``pretrained=True`` or
``pretrained='<path>'``, or the default of a registered class's ``pretrained`` argument. The
checks that a built model's frozen modules really hold those weights are the engine's
(:mod:`mmfrozen.engine.pretrained`).
"""
import inspect
from typing import Any, Dict, List, Optional, Tuple


#: ``init_cfg`` types that load a checkpoint (mmengine's ``PretrainedInit``, by either name).
PRETRAINED_INIT_TYPES = ('Pretrained', 'PretrainedInit')


def is_pretrained_init(init_cfg: Any) -> bool:
    """True if ``init_cfg`` (one dict) loads a pretrained checkpoint."""
    return isinstance(init_cfg, dict) and init_cfg.get('type') in PRETRAINED_INIT_TYPES


def pretrained_inits(init_cfg: Any) -> List[Dict[str, Any]]:
    """The entries of ``init_cfg`` (a dict, a list of dicts or None) that load a checkpoint."""
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return [c for c in cfgs if is_pretrained_init(c)]


def pretrained_argument(module_cfg: Any) -> Optional[str]:
    """``pretrained=True`` or ``pretrained='<path>'`` of a module config, else None.

    Such a module loads pretrained weights itself when it is built (mmpretrain's
    ``TIMMBackbone``, timm models, backbones ported from other code bases such as D-FINE's
    HGNetv2) instead of through an ``init_cfg``.
    """
    if not isinstance(module_cfg, dict):
        return None
    value = module_cfg.get('pretrained')
    if value is True or (isinstance(value, str) and value):
        return f'pretrained={value!r}'
    return None


def self_loading_modules(model_cfg: Any, path: str = 'model') -> List[str]:
    """The modules of a model config that load pretrained weights themselves when they are
    built (:func:`pretrained_argument`), as ``'<config key>: pretrained=...'``."""
    found = []
    if isinstance(model_cfg, dict):
        argument = pretrained_argument(model_cfg)
        if argument is not None:
            found.append(f'{path}: {argument}')
        for key, value in model_cfg.items():
            found += self_loading_modules(value, f'{path}.{key}')
    elif isinstance(model_cfg, (list, tuple)):
        for index, value in enumerate(model_cfg):
            found += self_loading_modules(value, f'{path}.{index}')
    return found


def _registered_class(module_type: Any) -> Optional[type]:
    """The class a config's ``type`` names in mmdet's model registry, None if it is unknown
    here (its package is not installed or not imported)."""
    if inspect.isclass(module_type):
        return module_type
    if not isinstance(module_type, str):
        return None
    from mmdet.registry import MODELS
    try:
        return MODELS.get(module_type)
    except (KeyError, ImportError):  # an unknown scope prefix
        return None


def loads_pretrained(module_cfg: Any) -> Tuple[Optional[bool], str]:
    """Whether a module built from ``module_cfg`` holds pretrained weights, and why.

    True for an ``init_cfg`` of type Pretrained or ``pretrained=True``/``'<path>'``
    (:func:`pretrained_argument`); for a config that says neither, the default of the
    ``pretrained`` argument of its registered class (False where the class has none). None when
    the class is not registered here, so its default cannot be read: the caller cannot tell.
    """
    cfg = module_cfg if isinstance(module_cfg, dict) else {}
    found = pretrained_inits(cfg.get('init_cfg'))
    if found:
        return True, f"init_cfg Pretrained checkpoint={found[0].get('checkpoint')}"
    argument = pretrained_argument(cfg)
    if argument is not None:
        return True, argument
    kind = cfg.get('type')
    if 'pretrained' in cfg:
        return False, f"{kind}: pretrained={cfg['pretrained']!r}"
    cls = _registered_class(kind)
    if cls is None:
        return None, (f'{kind!r} is not registered here (its package is not installed or not '
                      'imported), so whether it loads pretrained weights by default is unknown')
    try:
        default = inspect.signature(cls).parameters.get('pretrained')
    except (TypeError, ValueError):  # no readable signature
        default = None
    if default is not None and default.default not in (inspect.Parameter.empty, None, False,
                                                       ''):
        return True, f'{cls.__name__} loads pretrained={default.default!r} by default'
    return False, f'{cls.__name__}: no init_cfg Pretrained, no pretrained weights by default'


def module_cfg_at(model_cfg: Any, path: str) -> Optional[Dict[str, Any]]:
    """The config dict of the sub-module at attribute ``path`` of a model config, if the
    config holds it under the same names (``'roi_head.bbox_head'``); None otherwise."""
    node = model_cfg
    for part in [p for p in path.split('.') if p]:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node if isinstance(node, dict) else None


def own_pretrained_argument(model_cfg: Any, path: str) -> Optional[str]:
    """The ``pretrained=`` argument with which the module at ``path``, or one enclosing it,
    loads itself (:func:`pretrained_argument`), as ``'<owner>: pretrained=...'``."""
    parts = [p for p in path.split('.') if p]
    for depth in range(len(parts), -1, -1):
        owner = '.'.join(parts[:depth])
        argument = pretrained_argument(module_cfg_at(model_cfg, owner))
        if argument is not None:
            return f'{owner or "model"}: {argument}'
    return None
