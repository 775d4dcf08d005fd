"""The mode of a run, read from its config (never from its name).

``frozen``: ``custom_hooks`` holds a :class:`~mmfrozen.engine.FreezeHook` (or subclass);
``frozen-adapters``: frozen and ``model.backbone.adapter_cfg`` is set; ``frozen-lora``: frozen
and ``model.backbone.lora_cfg`` is set (LoRA backbones require it); ``scratch``: not frozen,
no ``init_cfg`` of type Pretrained on the backbone and no ``load_from``; otherwise ``ft``
(fine-tuned). Config names carry the same word (``r50-frozen``), which tools use to pair twins
(:mod:`mmfrozen.analysis.config_name`).
"""
from typing import Any

from .frozen_model import freeze_hook_cfgs
from .pretrained import pretrained_inits

#: The modes of a run, and the words config names carry for them.
MODES = ('ft', 'frozen', 'frozen-adapters', 'frozen-lora', 'scratch')


def config_mode(cfg: Any) -> str:
    """One of :data:`MODES` for a loaded config (``mmengine.Config`` or dict)."""
    backbone = (cfg.get('model') or {}).get('backbone') or {}
    if freeze_hook_cfgs(cfg.get('custom_hooks')):
        if backbone.get('adapter_cfg'):
            return 'frozen-adapters'
        return 'frozen-lora' if backbone.get('lora_cfg') is not None else 'frozen'
    if not pretrained_inits(backbone.get('init_cfg')) and not cfg.get('load_from'):
        return 'scratch'
    return 'ft'
