"""Where the weights of a frozen module come from, and the checks that they really did.

A frozen module that was never loaded from a pretrained checkpoint is a random feature
extractor that no training step will ever fix. These checks run before training starts.
"""
import re
from typing import Any, Dict, List, Optional

import torch
from mmengine.logging import print_log
from mmengine.runner.checkpoint import _load_checkpoint
from torch import nn

from ..freezing import FreezeSpec, frozen_tensors, resolve_module

_PRETRAINED_TYPES = ('Pretrained', 'PretrainedInit')


class RandomInitFrozenError(RuntimeError):
    """A module would be frozen at its random initialisation."""


def _pretrained_cfgs(module: nn.Module) -> List[Dict[str, Any]]:
    init_cfg = getattr(module, 'init_cfg', None)
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return [c for c in cfgs if isinstance(c, dict) and c.get('type') in _PRETRAINED_TYPES]


def pretrained_init_cfg(model: nn.Module, path: str) -> Optional[Dict[str, Any]]:
    """The ``init_cfg`` of type Pretrained that loads the module at ``path``, if any.

    It is either on the module itself, or on an enclosing module without a ``prefix`` (which
    loads a whole-model checkpoint, the module included). Returns a dict with the init_cfg and
    ``'owner'``, the path of the module that carries it.
    """
    target = resolve_module(model, path)
    found = [dict(c, owner=path) for c in _pretrained_cfgs(target)]
    if found:
        return found[0]
    parts = [p for p in path.split('.') if p]
    for depth in range(len(parts)):
        owner = '.'.join(parts[:depth])
        for cfg in _pretrained_cfgs(resolve_module(model, owner)):
            if cfg.get('prefix') is None:
                return dict(cfg, owner=owner)
    return None


def assert_pretrained(model: nn.Module, spec: FreezeSpec, load_from: Optional[str],
                      resume: bool) -> str:
    """Return where ``spec``'s module gets its weights from, or raise.

    Raises:
        RandomInitFrozenError: no ``init_cfg`` of type Pretrained covers the module and the run
            neither resumes nor uses ``load_from``.
    """
    if resume:
        return 'resume'
    if load_from:
        return f'load_from={load_from}'
    cfg = pretrained_init_cfg(model, spec.path)
    if cfg is not None:
        return f"init_cfg Pretrained checkpoint={cfg.get('checkpoint')}"
    module = resolve_module(model, spec.path)
    raise RandomInitFrozenError(
        f'mmfrozen: refusing to freeze {spec.path or "the model"!r} ({type(module).__name__}): '
        'nothing loads it from a pretrained checkpoint (no init_cfg=dict(type=\'Pretrained\', '
        'checkpoint=...) on it or on an enclosing module, no load_from, no resume), so it would '
        'stay frozen at its random initialisation and the detector would train on random '
        f'features. Set model.{spec.path}.init_cfg=dict(type=\'Pretrained\', checkpoint=...), '
        'or load_from=..., or, if a frozen random module is really what you want, '
        'allow_random_init=True on the freeze hook.')


def _checkpoint_state_dict(cfg: Dict[str, Any]) -> Dict[str, torch.Tensor]:
    """State dict that mmengine's ``PretrainedInit`` with ``cfg`` loads into its module."""
    ckpt = _load_checkpoint(cfg['checkpoint'], map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
    prefix = cfg.get('prefix')
    if prefix is not None:
        prefix = prefix if prefix.endswith('.') else prefix + '.'
        return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    return {re.sub(r'^module\.', '', k): v for k, v in state.items()}


def verify_loaded_from_pretrained(model: nn.Module, spec: FreezeSpec) -> Optional[str]:
    """Check that the frozen parameters now equal the pretrained checkpoint's tensors.

    mmengine loads ``init_cfg`` checkpoints with ``strict=False``, so a checkpoint whose keys do
    not match (wrong prefix, another architecture) leaves the module at its random init with
    only a warning. Call this after ``init_weights``. Returns a one-line summary, or None when
    the module is not loaded by an ``init_cfg`` (``load_from``/resume load the whole model).

    Raises:
        RandomInitFrozenError: a frozen parameter is missing from the checkpoint or differs
            from it.
    """
    cfg = pretrained_init_cfg(model, spec.path)
    if cfg is None:
        return None
    state = _checkpoint_state_dict(cfg)
    rel = spec.path[len(cfg['owner']):].lstrip('.') if cfg['owner'] else spec.path
    prefix = f'{rel}.' if rel else ''
    root = resolve_module(model, spec.path)
    params = dict(root.named_parameters())
    checked = 0
    for name, tensor in frozen_tensors(root, spec):
        if name not in params:
            continue  # buffers: torchvision checkpoints lack num_batches_tracked, for example
        src = state.get(prefix + name)
        if src is None:
            raise RandomInitFrozenError(
                f'mmfrozen: frozen parameter {spec.path}.{name} is not in the pretrained '
                f'checkpoint {cfg["checkpoint"]} (looked for key {prefix + name!r}; the '
                f'checkpoint has {len(state)} keys, e.g. {list(state)[:3]}). It would stay at its '
                'random initialisation. Fix the checkpoint or the init_cfg prefix.')
        if tuple(src.shape) != tuple(tensor.shape) or not torch.equal(
                src.to(tensor.dtype), tensor.detach().cpu()):
            raise RandomInitFrozenError(
                f'mmfrozen: frozen parameter {spec.path}.{name} differs from the pretrained '
                f'checkpoint {cfg["checkpoint"]} after weight initialisation (shape '
                f'{tuple(tensor.shape)} vs {tuple(src.shape)}); it was not loaded from it.')
        checked += 1
    msg = (f'mmfrozen: {spec.path}: all {checked} frozen parameters equal the pretrained '
           f'checkpoint {cfg["checkpoint"]}')
    print_log(msg, logger='current')
    return msg
