"""A config's freezing, read without building a model: its freeze hooks and their specs.

A freeze hook is :class:`~mmfrozen.engine.hooks.FreezeHook` or any subclass registered in
mmdet's ``HOOKS`` (``FreezeBackboneHook``, ``ClassifierRetrainHook``, a user's own): its class
says so with ``FREEZES_MODULES = True``, which this layer reads instead of importing the engine
(which builds on it).
"""
import inspect
from typing import Any, List, Optional, Sequence

from mmdet.registry import HOOKS
from mmengine.hooks import Hook

from ..freezing.spec import FreezeSpec

def freeze_hook_cfgs(custom_hooks: Optional[Sequence[Any]]) -> List[Any]:
    """The entries (dicts or hook objects) of ``custom_hooks`` that are freeze hooks.

    A freeze hook is :class:`~mmfrozen.engine.hooks.FreezeHook` or any subclass registered in
    mmdet's ``HOOKS`` (``FreezeBackboneHook``, ``ClassifierRetrainHook``, a user's own).
    """
    found = []
    for hook in custom_hooks or []:
        kind = hook.get('type') if isinstance(hook, dict) else type(hook)
        cls = HOOKS.get(kind) if isinstance(kind, str) else kind
        if inspect.isclass(cls) and getattr(cls, 'FREEZES_MODULES', False):
            found.append(hook)
    return found


def freeze_hooks(custom_hooks: Optional[Sequence[Any]]) -> List[Hook]:
    """The freeze hooks of ``custom_hooks``: config dicts built, hook objects as given."""
    found = []
    for hook in freeze_hook_cfgs(custom_hooks):
        if isinstance(hook, dict):
            hook = dict(hook)
            hook.pop('priority', None)  # a Runner argument, as in Runner.register_hook
            hook = HOOKS.build(hook)
        found.append(hook)
    return found


def freeze_specs(cfg: Any) -> List[FreezeSpec]:
    """Every :class:`~mmfrozen.freezing.FreezeSpec` a config's freeze hooks apply, in order.

    Args:
        cfg: A loaded config (``mmengine.Config`` or dict); its ``custom_hooks`` are read.
    """
    return [spec for hook in freeze_hooks(cfg.get('custom_hooks')) for spec in hook.specs]
