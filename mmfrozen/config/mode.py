"""The mode of a run, read from its config (never from its name).

``frozen``: ``custom_hooks`` holds a :class:`~mmfrozen.engine.FreezeHook` (or subclass);
``frozen-adapters``: frozen and ``model.backbone.adapter_cfg`` is set; ``frozen-lora``: frozen
and ``model.backbone.lora_cfg`` is set (LoRA backbones require it); ``ft`` (fine-tuned): not
frozen, and the backbone starts from pretrained weights (an ``init_cfg`` of type Pretrained on
it or on the model, ``pretrained=True``/``'<path>'`` on it, a registered backbone class whose
``pretrained`` argument defaults to loading, or ``load_from``); ``scratch``: not frozen and
nothing loads pretrained weights. When that cannot be told (a backbone type not registered here,
whose default is unknown, and nothing else that loads weights) the mode is ``unknown``, with a
warning: never a guess. Config names carry the same word (``r50-frozen``), which tools use to
pair twins (:mod:`mmfrozen.config.name`).
"""
import logging
from typing import Any, List, Optional

from mmengine.logging import print_log

from .freeze import freeze_hook_cfgs
from .pretrained import loads_pretrained, pretrained_inits

#: The modes of a run, and the words config names carry for them.
MODES = ('ft', 'frozen', 'frozen-adapters', 'frozen-lora', 'scratch')
#: The mode of a config whose backbone may or may not load pretrained weights.
UNKNOWN = 'unknown'


def config_mode(cfg: Any, warnings: Optional[List[str]] = None) -> str:
    """One of :data:`MODES`, or :data:`UNKNOWN`, for a loaded config (``mmengine.Config`` or dict).

    Args:
        cfg: The config.
        warnings: Where to add why the mode is :data:`UNKNOWN` (it is also logged).
    """
    model = cfg.get('model') or {}
    backbone = model.get('backbone') or {}
    if freeze_hook_cfgs(cfg.get('custom_hooks')):
        if backbone.get('adapter_cfg'):
            return 'frozen-adapters'
        return 'frozen-lora' if backbone.get('lora_cfg') is not None else 'frozen'
    if cfg.get('load_from') or pretrained_inits(model.get('init_cfg')):
        return 'ft'
    loads, why = loads_pretrained(backbone)
    if loads is None:
        msg = (f'mmfrozen: cannot tell whether the backbone starts from pretrained weights: '
               f'{why}, and the config has no init_cfg Pretrained, no pretrained=... on it and '
               f'no load_from; mode {UNKNOWN!r} (import the package that registers it, e.g. '
               'with custom_imports, to read its default)')
        print_log(msg, logger='current', level=logging.WARNING)
        if warnings is not None:
            warnings.append(msg)
        return UNKNOWN
    return 'ft' if loads else 'scratch'
