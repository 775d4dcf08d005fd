"""Where the weights of a frozen module come from, and the checks that they really did.

A frozen module that was never loaded from a pretrained checkpoint is a random feature
extractor that no training step will ever fix. These checks run before training starts.
"""
import re
from typing import Any, Dict, List, Optional, Set

import torch
from mmengine.logging import print_log
from mmengine.runner.checkpoint import _load_checkpoint
from torch import nn

from ..freezing import FreezeSpec, frozen_tensors, resolve_module, tensor_digest

#: ``init_cfg`` types that load a checkpoint (mmengine's ``PretrainedInit``, by either name).
PRETRAINED_INIT_TYPES = ('Pretrained', 'PretrainedInit')


def is_pretrained_init(init_cfg: Any) -> bool:
    """True if ``init_cfg`` (one dict) loads a pretrained checkpoint."""
    return isinstance(init_cfg, dict) and init_cfg.get('type') in PRETRAINED_INIT_TYPES


def pretrained_inits(init_cfg: Any) -> List[Dict[str, Any]]:
    """The entries of ``init_cfg`` (a dict, a list of dicts or None) that load a checkpoint."""
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return [c for c in cfgs if is_pretrained_init(c)]


class RandomInitFrozenError(RuntimeError):
    """A module would be frozen at its random initialisation."""


def pretrained_init_cfg(model: nn.Module, path: str) -> Optional[Dict[str, Any]]:
    """The ``init_cfg`` of type Pretrained that loads the module at ``path``, if any.

    It is either on the module itself, or on an enclosing module without a ``prefix`` (which
    loads a whole-model checkpoint, the module included). Returns a dict with the init_cfg and
    ``'owner'``, the path of the module that carries it.
    """
    target = resolve_module(model, path)
    found = [dict(c, owner=path) for c in pretrained_inits(getattr(target, 'init_cfg', None))
             if c.get('checkpoint')]
    if found:
        return found[0]
    parts = [p for p in path.split('.') if p]
    for depth in range(len(parts)):
        owner = '.'.join(parts[:depth])
        for cfg in pretrained_inits(getattr(resolve_module(model, owner), 'init_cfg', None)):
            if cfg.get('prefix') is None and cfg.get('checkpoint'):
                return dict(cfg, owner=owner)
    return None


def assert_pretrained(model: nn.Module, spec: FreezeSpec, load_from: Optional[str],
                      resume: bool) -> str:
    """Return where ``spec``'s module gets its weights from, or raise.

    Raises:
        RandomInitFrozenError: no ``init_cfg`` of type Pretrained covers the module and the run
            neither resumes nor uses ``load_from``.
    """
    cfg = pretrained_init_cfg(model, spec.path)
    if cfg is not None:
        return f"init_cfg Pretrained checkpoint={cfg.get('checkpoint')}"
    # Whether a checkpoint is really found and holds the module is checked before training.
    if load_from:
        return f'load_from={load_from} (checked once loaded)'
    if resume:
        return 'resume (checked once loaded)'
    where = f'model.{spec.path}' if spec.path else 'model'

    module = resolve_module(model, spec.path)
    raise RandomInitFrozenError(
        f'mmfrozen: refusing to freeze {spec.path or "the model"!r} ({type(module).__name__}): '
        'nothing loads it from a pretrained checkpoint (no init_cfg=dict(type=\'Pretrained\', '
        'checkpoint=...) on it or on an enclosing module, no load_from, no resume), so it would '
        'stay frozen at its random initialisation and the detector would train on random '
        f'features. Set {where}.init_cfg=dict(type=\'Pretrained\', checkpoint=...), '
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


def _loads_itself(module: nn.Module) -> bool:
    """True if the module's class overrides ``init_weights`` (own checkpoint conversion,
    e.g. mmdet's Swin with ``convert_weights=True``)."""
    for cls in type(module).__mro__:
        if 'init_weights' in vars(cls):
            return cls.__module__.split('.')[0] not in ('mmengine', 'torch')
    return False


def verify_loaded_from_pretrained(model: nn.Module, spec: FreezeSpec,
                                  max_converted: float = 0.25,
                                  names: Optional[Set[str]] = None) -> Optional[str]:
    """Check that the frozen parameters now hold the pretrained checkpoint's tensors.

    mmengine loads ``init_cfg`` checkpoints with ``strict=False``, so a checkpoint whose keys do
    not match (wrong prefix, another architecture, a format conversion that mangles names)
    leaves the module at its random init with only a warning. Call this after
    ``init_weights``. A parameter counts as loaded if it equals the checkpoint tensor of the
    same name, or any checkpoint tensor (backbones that convert an official checkpoint in their
    own ``init_weights`` rename keys). Backbones that convert may also reorder a few tensors
    (Swin's patch merging): for them up to ``max_converted`` of the parameters may match no
    checkpoint tensor, with a warning naming them.

    Only the parameters in ``names`` (relative to the module) are checked when it is given.

    Returns a one-line summary, or None when no ``init_cfg`` loads the module.

    Raises:
        RandomInitFrozenError: frozen parameters were not loaded from the checkpoint.
    """
    cfg = pretrained_init_cfg(model, spec.path)
    if cfg is None:
        return None
    state = _checkpoint_state_dict(cfg)
    rel = spec.path[len(cfg['owner']):].lstrip('.') if cfg['owner'] else spec.path
    prefix = f'{rel}.' if rel else ''
    root = resolve_module(model, spec.path)
    params = dict(root.named_parameters())
    by_value = {(tuple(v.shape), tensor_digest(v)) for v in state.values()
                if isinstance(v, torch.Tensor)}
    unmatched, checked = [], 0
    for name, tensor in frozen_tensors(root, spec):
        if name not in params or (names is not None and name not in names):
            continue  # buffers: torchvision checkpoints lack num_batches_tracked, for example
        checked += 1
        src = state.get(prefix + name)
        t = tensor.detach().cpu()
        if src is not None and tuple(src.shape) == tuple(t.shape) and torch.equal(
                src.to(t.dtype), t):
            continue
        if (tuple(t.shape), tensor_digest(t)) not in by_value:
            unmatched.append(name)
    source = cfg['checkpoint']
    if unmatched and (not _loads_itself(root) or len(unmatched) > max_converted * checked):
        raise RandomInitFrozenError(
            f'mmfrozen: {len(unmatched)} of {checked} frozen parameters of {spec.path!r} do not '
            f'hold the pretrained checkpoint {source} after weight initialisation (first: '
            f'{spec.path}.{unmatched[0]}; looked for key {prefix + unmatched[0]!r} among '
            f'{len(state)} keys such as {list(state)[:3]}). They would stay frozen at their '
            'random initialisation. Fix the checkpoint, its init_cfg prefix or the backbone\'s '
            'conversion option (e.g. convert_weights).')
    if unmatched:
        print_log(f'mmfrozen: {len(unmatched)} of {checked} frozen parameters of {spec.path!r} '
                  f'differ from every tensor of {source}, as expected where '
                  f'{type(root).__name__}.init_weights converts the checkpoint: {unmatched}',
                  logger='current', level=30)
    msg = (f'mmfrozen: {spec.path}: {checked - len(unmatched)} of {checked} frozen parameters '
           f'hold the pretrained checkpoint {source}')
    print_log(msg, logger='current')
    return msg


def checkpoint_digests(checkpoint: Dict[str, Any]) -> Dict[str, str]:
    """Digests of a loaded runner checkpoint's model tensors, by model-level name."""
    state = checkpoint.get('state_dict', checkpoint)
    return {re.sub(r'^module\.', '', k): tensor_digest(v) for k, v in state.items()
            if isinstance(v, torch.Tensor)}


def verify_frozen_weights_loaded(model: nn.Module, spec: FreezeSpec,
                                 loaded: Optional[Dict[str, str]]) -> str:
    """Check, before training, where every frozen parameter's value came from.

    Parameters present in the checkpoint loaded by ``load_from``/resume (``loaded``: digests by
    model-level name, None when no checkpoint was loaded) must equal it; all others must hold
    the tensors of the module's ``init_cfg`` Pretrained checkpoint
    (:func:`verify_loaded_from_pretrained`).

    Raises:
        RandomInitFrozenError: a frozen parameter came from neither.
    """
    root = resolve_module(model, spec.path)
    prefix = f'{spec.path}.' if spec.path else ''
    params = dict(root.named_parameters())
    rest = set()
    for name, tensor in frozen_tensors(root, spec):
        if name not in params:
            continue
        digest = (loaded or {}).get(prefix + name)
        if digest is None:
            rest.add(name)
        elif digest != tensor_digest(tensor):
            raise RandomInitFrozenError(
                f'mmfrozen: frozen parameter {prefix + name} differs from the checkpoint that '
                'was loaded into the model (shape mismatch?). Check the load_from checkpoint.')
    from_ckpt = len(params) - len(rest) if loaded else 0
    if not rest:
        return f'mmfrozen: {spec.path!r}: all frozen parameters come from the loaded checkpoint'
    msg = verify_loaded_from_pretrained(model, spec, names=rest)
    if msg is None:
        first = sorted(rest)[0]
        raise RandomInitFrozenError(
            f'mmfrozen: {len(rest)} frozen parameters of {spec.path or "the model"!r} (first: '
            f'{prefix + first}) were loaded neither from a checkpoint (load_from/resume: '
            f'{"none was loaded" if loaded is None else "not in it"}) nor from an init_cfg '
            'Pretrained checkpoint: they would stay frozen at their random initialisation. '
            'Point load_from at a checkpoint that holds them, or set init_cfg on the module.')
    return msg + (f' ({from_ckpt} from the loaded checkpoint)' if from_ckpt else '')
