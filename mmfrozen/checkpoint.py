"""Loading mmengine checkpoints on torch >= 2.6 without turning off ``torch.load``'s safety.

torch 2.6 made ``torch.load(weights_only=True)`` the default. mmengine 0.10.7 calls
``torch.load(filename, map_location=...)`` for local files, and every checkpoint its Runner
writes carries numpy arrays and scalars (``message_hub`` history buffers, ``meta``) and mmengine
objects, so ``resume=True`` and ``load_from`` fail with ``UnpicklingError``.

The fix stays narrow on purpose: mmengine's loader for local paths is replaced by one that
still loads with ``weights_only=True`` but allows, for that one call, exactly the types an
mmengine/mmdet checkpoint is made of (numpy arrays, scalars and dtypes, mmengine's
``HistoryBuffer`` and its statistics methods, config dicts). Nothing is allowed globally,
pickles that reference any other type are still refused, and remote schemes
(``torchvision://``, ``https://``) are untouched. A refused file gets an error that names
the type and how to allow it if the file is trusted.

A checkpoint that loads but does not fit the model is refused where mmengine only warns, for
the checkpoints the package writes itself (:func:`refuse_unfit_checkpoint`): a shared-backbone
sweep's checkpoint given to one of its members or to a sweep of none of its members, a split
member checkpoint resumed, or tested with a model other than the one the sweep trained for it.
"""
import logging
import os.path as osp
import pickle
import re
import zipfile
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Optional

import numpy as np
import torch
from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader

__all__ = ['checkpoint_safe_globals', 'load_local_checkpoint', 'register_checkpoint_loader',
           'read_checkpoint', 'strip_prefix', 'model_state_dict', 'sweep_member_names',
           'CheckpointMismatchError', 'refuse_unfit_checkpoint']

#: Key prefix of each member's weights in a DetectorSweep checkpoint: ``members.<name>.``.
SWEEP_MEMBERS = 'members.'
#: Meta keys of a member checkpoint written by ``tools/split_sweep_checkpoint.py``: the member's
#: name and the file of the config the sweep trained it with (``cfg_options`` applied).
SWEEP_MEMBER, SWEEP_MEMBER_CONFIG = 'sweep_member', 'sweep_member_config'


def _numpy_globals() -> List[Any]:
    try:  # numpy >= 2 pickles refer to numpy._core
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
    dtype_classes = [type(np.dtype(t)) for t in np.sctypeDict.values()]
    # checkpoints written under numpy 1.x name numpy.core, numpy 2 numpy._core
    aliases = [(_reconstruct, 'numpy.core.multiarray._reconstruct'),
               (scalar, 'numpy.core.multiarray.scalar')]
    return [_reconstruct, scalar, np.ndarray, np.dtype, *set(dtype_classes), *aliases]


def _allowed_attribute(obj: Any, name: str) -> Any:
    """Stands in for ``getattr`` while unpickling: only the attributes mmengine's checkpoints
    pickle by reference. ``MessageHub`` pickles the statistics methods of its ``HistoryBuffer``
    objects as ``getattr(HistoryBuffer, 'mean')``; ``OneCycleLR``/``OneCycleMomentum`` their
    annealing function as ``getattr(OneCycleParamScheduler, '_annealing_cos')``. Allowing
    ``getattr`` itself would let a pickle reach any attribute of any allowed object.
    """
    from mmengine.logging import HistoryBuffer
    from mmengine.optim.scheduler.param_scheduler import OneCycleParamScheduler
    allowed = {HistoryBuffer: {'min', 'max', 'mean', 'current',
                               *HistoryBuffer._statistics_methods},
               OneCycleParamScheduler: {'_annealing_cos', '_annealing_linear'}}
    if name in allowed.get(obj, ()):
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'mmfrozen: refusing getattr({obj!r}, {name!r}) while loading a checkpoint')


def checkpoint_safe_globals() -> List[Any]:
    """The types an mmengine/mmdet checkpoint is made of, beyond tensors and builtins."""
    from mmengine.config import ConfigDict
    from mmengine.logging import HistoryBuffer
    from mmengine.optim.scheduler.param_scheduler import OneCycleParamScheduler
    return _numpy_globals() + [HistoryBuffer, ConfigDict, OneCycleParamScheduler,
                               (_allowed_attribute, 'builtins.getattr')]


def _unreadable(filename: str, why: str) -> RuntimeError:
    return RuntimeError(
        f'mmfrozen: cannot load the checkpoint {filename}: {why}. The file is truncated, '
        'corrupt or not a PyTorch checkpoint (an interrupted download or save, or an HTML error '
        'page saved under a .pth name?). Download or save it again, or point the config at '
        'another file.')


def _check_readable(filename: str) -> None:
    """Refuse, naming the file, what ``torch.load`` could only fail on obscurely."""
    size = osp.getsize(filename)
    if size == 0:
        raise _unreadable(filename, 'it is empty (0 bytes)')
    if zipfile.is_zipfile(filename):
        return
    with open(filename, 'rb') as f:
        head = f.read(2)
    if head == b'PK':  # a zip archive's local header, but no central directory at the end
        raise _unreadable(filename, f'it is a damaged zip archive ({size} bytes, no central '
                          'directory at its end)')
    # torch.save writes a zip archive; files of torch < 1.6 (or _use_new_zipfile_serialization
    # =False) are pickles, which start with the PROTO opcode
    if head[:1] != b'\x80':
        raise _unreadable(filename, f'it is neither a zip archive nor a pickle ({size} bytes '
                          f'starting with {head!r})')


def load_local_checkpoint(filename: str, map_location: Any = None) -> Any:
    """Drop-in for mmengine's ``load_from_local`` that works on torch >= 2.6.

    Raises:
        FileNotFoundError: the file does not exist.
        RuntimeError: the file is empty, truncated or not a PyTorch checkpoint.
        pickle.UnpicklingError: the file holds a type outside :func:`checkpoint_safe_globals`.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    _check_readable(filename)
    if not hasattr(torch.serialization, 'safe_globals'):  # torch < 2.5 has no weights_only default
        return torch.load(filename, map_location=map_location)
    return _load_weights_only(
        lambda: torch.load(filename, map_location=map_location, weights_only=True), filename,
        local=True)


def _load_weights_only(load: Callable[[], Any], filename: str, local: bool) -> Any:
    """``load()`` (a ``torch.load(weights_only=True)`` of ``filename``) with the types of
    :func:`checkpoint_safe_globals` allowed; a refused type raises an error naming it, and so
    does (for a ``local`` file) a file torch cannot read."""
    try:
        with torch.serialization.safe_globals(checkpoint_safe_globals()):
            return load()
    except Exception as e:  # torch raises UnpicklingError wrapped in various ways
        if 'mmfrozen: refusing' in str(e):  # _allowed_attribute's refusal
            raise pickle.UnpicklingError(f'mmfrozen: {filename}: {e}') from e
        refused = re.search(r'GLOBAL ([\w.]+)', str(e))
        if refused is None and not local:  # a download's failure is the downloader's to name
            raise
        if refused is None:
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise _unreadable(filename, f'torch.load failed: {reason}') from e
        raise pickle.UnpicklingError(
            f'mmfrozen: {filename} holds an object of type {refused.group(1)}, which mmfrozen '
            'does not load by default (only tensors, numpy values and mmengine log/config '
            'objects are allowed: loading other types can run arbitrary code). If you trust '
            f'this file, allow it with `torch.serialization.add_safe_globals([{refused.group(1)}'
            '])` before training.\n' + str(e)) from e


def register_checkpoint_loader() -> Callable:
    """Make :func:`load_local_checkpoint` mmengine's loader for local paths (idempotent)."""
    CheckpointLoader.register_scheme(prefixes='', loader=load_local_checkpoint, force=True)
    return load_local_checkpoint


def read_checkpoint(filename: str, map_location: Any = 'cpu') -> Any:
    """Load a checkpoint file: the one way mmfrozen's own code reads one.

    A local file is loaded by :func:`load_local_checkpoint` (``weights_only``, only the types
    an mmengine checkpoint is made of). A remote one (``torchvision://``, ``open-mmlab://``,
    ``https://``, ...) is fetched by mmengine's loader for its scheme and loaded the same way:
    mmengine loads its downloads with ``torch.hub.load_state_dict_from_url``, whose
    ``weights_only`` defaults to False (it would run any code the file pickles), so for this
    call it loads them with ``weights_only=True``.

    Raises:
        FileNotFoundError: a local file does not exist.
        RuntimeError: it is empty, truncated or not a PyTorch checkpoint.
        pickle.UnpicklingError: it holds a type outside :func:`checkpoint_safe_globals`.
    """
    if '://' not in str(filename):
        return load_local_checkpoint(str(filename), map_location)
    if not hasattr(torch.serialization, 'safe_globals'):  # pragma: no cover - torch < 2.5
        return CheckpointLoader.load_checkpoint(filename, map_location=map_location)
    import mmengine.runner.checkpoint as mmengine_checkpoint
    from torch.hub import load_state_dict_from_url

    def load_url(*args: Any, **kwargs: Any) -> Any:
        return load_state_dict_from_url(*args, **kwargs, weights_only=True)

    mmengine_load_url = mmengine_checkpoint.load_url
    mmengine_checkpoint.load_url = load_url  # what load_from_http downloads and loads with
    try:
        return _load_weights_only(
            lambda: CheckpointLoader.load_checkpoint(filename, map_location=map_location),
            filename, local=False)
    finally:
        mmengine_checkpoint.load_url = mmengine_load_url


def strip_prefix(state_dict: Dict[str, Any], prefix: str,
                 keep_others: bool = False) -> Dict[str, Any]:
    """The entries of ``state_dict`` under the module path ``prefix`` (``'backbone.'``; the dot
    may be left out), with the prefix removed; with ``keep_others``, the other entries too, as
    they are (DDP's ``module.``, which only some keys may carry)."""
    prefix = prefix if prefix.endswith('.') else prefix + '.'
    return OrderedDict((k[len(prefix):] if k.startswith(prefix) else k, v)
                       for k, v in state_dict.items() if keep_others or k.startswith(prefix))


def model_state_dict(checkpoint: Any) -> Dict[str, torch.Tensor]:
    """The model weights of a loaded checkpoint (its ``state_dict``, or the checkpoint itself
    when it is a bare state dict), without DDP's ``module.`` prefix."""
    state = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else {}
    return strip_prefix(state, 'module.', keep_others=True)


def sweep_member_names(state_dict: Dict[str, Any]) -> List[str]:
    """Names of the members of a DetectorSweep state dict, in order; empty for any other."""
    names: Dict[str, None] = OrderedDict()
    for key in state_dict:
        if key.startswith(SWEEP_MEMBERS):
            names[key[len(SWEEP_MEMBERS):].split('.', 1)[0]] = None
    return list(names)


class CheckpointMismatchError(RuntimeError):
    """A checkpoint written by mmfrozen was given to a model it does not fit."""


def _mismatches(model_state: Dict[str, torch.Tensor], state: Dict[str, Any]) -> List[str]:
    """In words: the tensors that differ in shape, that the checkpoint lacks, that the model
    lacks (each: how many, and the first)."""
    shapes = [k for k, v in state.items() if k in model_state and isinstance(v, torch.Tensor)
              and tuple(v.shape) != tuple(model_state[k].shape)]
    missing = [k for k in model_state if k not in state]
    unexpected = [k for k in state if k not in model_state]
    out = []
    if shapes:
        k = shapes[0]
        out.append(f'{len(shapes)} tensors differ in shape (first: {k}, '
                   f'{tuple(state[k].shape)} in the checkpoint, {tuple(model_state[k].shape)} '
                   'in the model)')
    if missing:
        out.append(f'{len(missing)} tensors of the model are not in the checkpoint (first: '
                   f'{missing[0]})')
    if unexpected:
        out.append(f'{len(unexpected)} tensors of the checkpoint are not in the model (first: '
                   f'{unexpected[0]})')
    return out


def _member_config(filename: str, meta: Dict[str, Any]) -> Optional[str]:
    """The config file the split wrote for a member checkpoint, where it is now: next to the
    checkpoint (``<stem>.py``, also after both were moved), else where the split wrote it; None
    if neither exists."""
    for config in (osp.splitext(filename)[0] + '.py', meta.get(SWEEP_MEMBER_CONFIG)):
        if config and osp.isfile(config):
            return config
    return None


#: State-dict key endings of a LoRA update's A and B (:mod:`mmfrozen.models.backbones.lora`),
#: after the adapted linear's name.
LORA_DOWN, LORA_UP = '.lora.down.weight', '.lora.up.weight'


def refuse_unfit_lora(state: Dict[str, Any], model_state: Dict[str, Any], filename: str,
                       purpose: str) -> None:
    """Refuse a checkpoint of a ``frozen-lora`` run loaded into a model that cannot hold its
    updates: one without LoRA (its ``frozen`` twin, before the merge), or one whose LoRA adapts
    other layers or has another rank. mmengine would drop the updates that do not fit with a
    warning, and they would run at their initialisation (``B = 0``: no update at all)."""
    lora = {k: v for k, v in state.items() if k.endswith((LORA_DOWN, LORA_UP))}
    if not lora:
        return
    doing = {'test': 'tested', 'train': 'trained from', 'resume': 'resumed'}.get(purpose, purpose)
    merge = (f'    python tools/merge_lora.py <the frozen-lora config> {filename} --out '
             f'{osp.splitext(filename)[0]}_merged.pth')
    if not any(k.endswith(LORA_UP) for k in model_state):
        adapted = sorted(k[:-len(LORA_UP)] for k in lora if k.endswith(LORA_UP))
        raise CheckpointMismatchError(
            f'mmfrozen: {filename} holds the LoRA updates of a frozen-lora run ({len(adapted)} '
            f'adapted linear layers, e.g. {adapted[0]!r}), but this model has no LoRA: the '
            'updates would be dropped (mmengine only warns about unexpected keys) and the plain '
            f'frozen backbone would be {doing} as if it were the LoRA run. Merge them into the '
            f'weights first:\n{merge}\nand load the merged checkpoint with this config (the '
            'frozen twin), or load this one with the frozen-lora config.')
    missing = sorted(k for k in lora if k not in model_state)
    shapes = sorted(k for k in lora if k in model_state and hasattr(model_state[k], 'shape')
                    and tuple(model_state[k].shape) != tuple(lora[k].shape))
    if missing or shapes:
        what = '; '.join(part for part in (
            f'{len(missing)} of its LoRA tensors have no place in this model (e.g. '
            f'{missing[0]!r}: lora_cfg.targets adapts other layers)' if missing else '',
            f'{len(shapes)} have another shape (e.g. {shapes[0]!r}: '
            f'{tuple(lora[shapes[0]].shape)} in it, {tuple(model_state[shapes[0]].shape)} '
            'here: another lora_cfg.rank)' if shapes else '') if part)
        raise CheckpointMismatchError(
            f'mmfrozen: {filename} holds the LoRA updates of a frozen-lora run that this '
            f'model\'s LoRA cannot hold: {what}. They would be dropped (mmengine only warns) '
            f'and run at their initialisation, no update. Load it with the lora_cfg it was '
            'trained with (its meta["cfg"]), or merge it:\n' + merge)


def _refuse_other_lora_scale(model: torch.nn.Module, state: Dict[str, Any],
                             meta: Dict[str, Any], filename: str) -> None:
    """Refuse LoRA updates (``state``, the checkpoint's) loaded into LoRA modules that scale
    them otherwise than the run that trained them (another ``lora_cfg.alpha``, as its
    ``meta['cfg']`` records it): every tensor loads, and the updates would run at another
    strength."""
    scales = {round(float(m.scale), 9) for m in model.modules()
              if type(m).__name__ == 'LoRA' and hasattr(m, 'scale')}
    downs = [v for k, v in state.items() if k.endswith(LORA_DOWN)]
    if not scales or not downs or not isinstance(meta.get('cfg'), str):
        return
    from mmengine.config import Config
    try:
        trained_cfg = Config.fromstring(meta['cfg'], '.py').to_dict()
    except Exception:  # a config text that does not parse here: nothing to compare with
        return
    found: List[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get('lora_cfg'), dict):
                found.append(node['lora_cfg'])
            for value in node.values():
                walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)
    walk(trained_cfg.get('model'))
    if len(found) != 1:
        return
    rank = int(downs[0].shape[0])
    alpha = found[0].get('alpha')
    trained = round(float(rank if alpha is None else alpha) / rank, 9)
    if scales != {trained}:
        raise CheckpointMismatchError(
            f'mmfrozen: {filename} holds LoRA updates trained at scale alpha/rank = {trained} '
            f'(lora_cfg.alpha={alpha!r}, rank {rank} in its meta["cfg"]), but this model\'s '
            f'LoRA scales them by {sorted(scales)}: they would run at another strength than '
            'they were trained with. Load it with the lora_cfg it was trained with.')


def refuse_unfit_checkpoint(model: torch.nn.Module, checkpoint: Any, filename: str,
                            purpose: str = 'test') -> None:
    """Refuse a checkpoint written by mmfrozen that ``model`` cannot hold as it was trained.

    mmengine loads ``load_from``/``tools/test.py`` checkpoints with ``strict=False``: tensors it
    cannot place stay at their random initialisation, with a warning only. That stays so for
    other checkpoints (loading one with another number of classes is common and meant). For the
    checkpoints the package writes:

    * a DetectorSweep checkpoint (``members.<name>.`` keys) loaded into a model without sweep
      members, or into a sweep none of whose members it holds, is refused: every neck and head
      would stay random; into a sweep with members it lacks, a warning names them for training
      (a member added to a sweep starts from its initialisation), and testing is refused; a
      member whose tensors differ from the checkpoint's (names, shapes) is refused, naming it,
      for ``resume`` and ``test``;
    * a checkpoint without sweep members (a detector's, a split member's) loaded into a sweep
      is refused: none of the members' necks and heads would load;
    * a member checkpoint split from a sweep (meta ``sweep_member``) is refused for ``resume``
      (it holds no optimizer, scheduler or message-hub state: they are the sweep's);
    * a split member whose tensors do not match the model's names and shapes is refused for
      ``test`` (tools/test.py, validation: the model is not the one the sweep trained, typically
      the member's own config without the ``cfg_options`` the sweep applied to it); as
      ``load_from`` of a training run it loads as mmengine loads any checkpoint (fine-tuning
      with another number of classes), with a warning naming the config the sweep trained it
      with;
    * a checkpoint of a ``frozen-lora`` run (LoRA updates) loaded into a model without LoRA,
      or whose LoRA adapts other layers or has another rank, is refused for every purpose: the
      updates would be dropped; ``tools/merge_lora.py`` folds them into the weights for the
      ``frozen`` twin.

    Args:
        model: The model the checkpoint was just loaded into.
        checkpoint: The loaded checkpoint.
        filename: Its file, for the messages.
        purpose: ``'test'`` (tools/test.py, validation), ``'train'`` (``load_from`` of a
            training run) or ``'resume'``.

    Raises:
        CheckpointMismatchError: naming what does not fit and the command that loads it.
    """
    state = model_state_dict(checkpoint)
    model_state = model.state_dict()
    members = sweep_member_names(state)
    stem = osp.splitext(filename)[0]
    meta = (checkpoint.get('meta') if isinstance(checkpoint, dict) else None) or {}
    refuse_unfit_lora(state, model_state, filename, purpose)
    _refuse_other_lora_scale(model, state, meta, filename)
    if members and not sweep_member_names(model_state):
        raise CheckpointMismatchError(
            f'mmfrozen: {filename} is the checkpoint of a shared-backbone sweep (members '
            f'{members}, each under "{SWEEP_MEMBERS}<name>."), but this model is a '
            f'{type(model).__name__} without sweep members: its neck and heads would stay at '
            'their random initialisation (mmengine only warns about missing keys). Split the '
            f'checkpoint into one per member first:\n    python tools/split_sweep_checkpoint.py '
            f'{filename}\nand load the member\'s checkpoint with the config written next to it, '
            f'e.g.\n    python tools/test.py {stem}_{members[0]}.py {stem}_{members[0]}.pth')
    if members:
        ours = sweep_member_names(model_state)
        absent = [m for m in ours if m not in members]
        if len(absent) == len(ours):
            raise CheckpointMismatchError(
                f'mmfrozen: {filename} is the checkpoint of a sweep with members {members}, but '
                f'this sweep\'s members are {ours}: none of them is in it, so every neck and head '
                'would stay at its random initialisation (mmengine only warns about missing '
                'keys); only the shared backbone would load. Name the members as the sweep that '
                'wrote the checkpoint did, or split it (tools/split_sweep_checkpoint.py) and '
                'train each member from its own checkpoint.')
        if absent and purpose == 'test':
            raise CheckpointMismatchError(
                f'mmfrozen: {filename} holds sweep members {members}, but this sweep also has '
                f'{absent}, which are not in it: they would be evaluated at their random '
                'initialisation (mmengine only warns about missing keys). Test the members the '
                f'checkpoint holds (remove {absent} from the sweep\'s member list), or train '
                'the added members first.')
        if absent:
            print_log(f'mmfrozen: {filename} holds sweep members {members}; this sweep\'s '
                      f'members {absent} are not in it and start from their initialisation',
                      logger='current', level=logging.WARNING)
        for name in ([m for m in ours if m in members] if purpose != 'train' else []):
            prefix = f'{SWEEP_MEMBERS}{name}.'
            found = _mismatches({k: v for k, v in model_state.items() if k.startswith(prefix)},
                                {k: v for k, v in state.items() if k.startswith(prefix)})
            if found:
                how = ('Resuming continues the same run: put the member\'s config back as it '
                       'was; to train the changed model, start a new run (or add it to the sweep '
                       'under a new name).' if purpose == 'resume' else
                       'Its tensors that do not fit would stay at their initialisation '
                       '(mmengine only warns): test with the member configs the sweep was '
                       'trained with.')
                raise CheckpointMismatchError(
                    f'mmfrozen: {filename}: sweep member {name!r} of this sweep is not the model '
                    f'the checkpoint holds for it: {"; ".join(found)} (its config or '
                    f'cfg_options changed since the checkpoint was written). {how}')
    member = meta.get(SWEEP_MEMBER)
    sweep = meta.get('sweep_checkpoint') or 'the sweep checkpoint it was split from'
    ours = sweep_member_names(model_state)
    if ours and not members and not (member and purpose == 'resume'):
        what = (f'sweep member {member!r} split from {sweep} (load that sweep checkpoint to go '
                'on with the sweep)' if member else 'a detector\'s, not a sweep\'s')
        raise CheckpointMismatchError(
            f'mmfrozen: {filename} holds no sweep members (no "{SWEEP_MEMBERS}<name>." weights): '
            f'it is {what}, but this model is a sweep of {ours}: none of their necks and heads '
            'would load, they would stay at their initialisation (mmengine only warns about '
            'missing keys). A sweep loads the checkpoints a sweep wrote. To start members from '
            'a trained detector\'s neck and heads, give each of them Pretrained init_cfgs with '
            "the detector's key prefixes, e.g. cfg_options={'model.neck.init_cfg': "
            f"dict(type='Pretrained', checkpoint={filename!r}, prefix='neck.'), "
            "'model.bbox_head.init_cfg': dict(type='Pretrained', checkpoint=..., "
            "prefix='bbox_head.')} in the sweep's member list, and no load_from.")
    if member is None:
        return
    if purpose == 'resume':
        raise CheckpointMismatchError(
            f'mmfrozen: cannot resume from {filename}: it holds sweep member {member!r} split '
            'from a sweep checkpoint, with the model weights only (no optimizer, scheduler or '
            'message-hub state: those are the sweep\'s). Resume the sweep from '
            f'{sweep} with the sweep\'s config; or start a new run from the member\'s weights '
            f'with load_from={filename!r} and resume=False.')
    found = _mismatches(model_state, state)
    if not found:
        return
    config = _member_config(filename, meta)
    written = (config or f'not found: neither {stem}.py nor {meta.get(SWEEP_MEMBER_CONFIG)} '
               'exists; its text is the checkpoint\'s meta["cfg"], e.g. Config.fromstring('
               f'mmfrozen.checkpoint.read_checkpoint({filename!r})["meta"]["cfg"], ".py")'
               f'.dump({stem + ".py"!r})')
    if purpose == 'train':
        print_log(
            f'mmfrozen: {filename} holds sweep member {member!r}, and this model is not the one '
            f'the sweep trained for it: {"; ".join(found)}. Training starts from it with the '
            'tensors that do not fit at their initialisation, as mmengine does for any '
            'checkpoint (e.g. fine-tuning with another number of classes). To go on with the '
            f'member as the sweep trained it, train with the config the split wrote ({written}).',
            logger='current', level=logging.WARNING)
        return
    how = (f'Load it with that config:\n    python tools/test.py {config} {filename}\n'
           if config else '')
    raise CheckpointMismatchError(
        f'mmfrozen: {filename} holds sweep member {member!r}, but this model is not the one the '
        f'sweep trained for it: {"; ".join(found)}. The model\'s tensors that do not fit would '
        'stay at their random initialisation (mmengine only warns). The sweep trained the '
        'member with its config and the cfg_options the sweep config gives it; the split wrote '
        f'that config ({written}). {how}To evaluate this model with the tensors that fit anyway, '
        'remove the checkpoint\'s meta["sweep_member"] (as load_from of a training run, e.g. '
        'fine-tuning with another number of classes, it loads with a warning).')
