"""The mode of a run, read from its config (never from its name).

``frozen``: ``custom_hooks`` holds a :class:`~mmfrozen.engine.FreezeHook` (or subclass);
``frozen-adapters``: frozen and ``model.backbone.adapter_cfg`` is set; ``frozen-lora``: frozen
and ``model.backbone.lora_cfg`` is set (LoRA backbones require it); ``scratch``: not frozen,
no ``init_cfg`` of type Pretrained on the backbone and no ``load_from``; otherwise ``ft``
(fine-tuned). Config names carry the same word (``r50-frozen``), which tools use to pair twins.
"""
import inspect
from typing import Any, List, Optional, Sequence

from mmdet.registry import HOOKS

from .hooks.freeze_hook import FreezeHook

MODES = ('ft', 'frozen', 'frozen-adapters', 'frozen-lora', 'scratch')
_PRETRAINED_TYPES = ('Pretrained', 'PretrainedInit')


def freeze_hook_cfgs(custom_hooks: Optional[Sequence[Any]]) -> List[Any]:
    """The entries (dicts or hook objects) of ``custom_hooks`` that are freeze hooks."""
    found = []
    for hook in custom_hooks or []:
        kind = hook.get('type') if isinstance(hook, dict) else type(hook)
        cls = HOOKS.get(kind) if isinstance(kind, str) else kind
        if inspect.isclass(cls) and issubclass(cls, FreezeHook):
            found.append(hook)
    return found


def has_pretrained_init(init_cfg: Any) -> bool:
    """True if ``init_cfg`` (a dict or a list of dicts) loads a Pretrained checkpoint."""
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return any(isinstance(c, dict) and c.get('type') in _PRETRAINED_TYPES for c in cfgs)


def config_mode(cfg: Any) -> str:
    """One of :data:`MODES` for a loaded config (``mmengine.Config`` or dict)."""
    backbone = (cfg.get('model') or {}).get('backbone') or {}
    if freeze_hook_cfgs(cfg.get('custom_hooks')):
        if backbone.get('adapter_cfg'):
            return 'frozen-adapters'
        return 'frozen-lora' if backbone.get('lora_cfg') is not None else 'frozen'
    if not has_pretrained_init(backbone.get('init_cfg')) and not cfg.get('load_from'):
        return 'scratch'
    return 'ft'
