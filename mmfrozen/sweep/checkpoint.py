"""Split a sweep checkpoint into one standard mmdet checkpoint per member.

A :class:`~mmfrozen.sweep.DetectorSweep` checkpoint holds the shared backbone under
``backbone.`` and each member's own weights under ``members.<name>.``. A member's checkpoint is
the backbone plus the member's weights with that prefix removed: the state dict of the member's
own detector, loadable with the member's own config (``tools/test.py``, ``load_from``,
``init_detector``).
"""
import os
import os.path as osp
from collections import OrderedDict
from typing import Dict, Optional, Sequence

import torch

_MEMBERS = 'members.'
_BACKBONE = 'backbone.'


def sweep_member_names(state_dict: Dict[str, torch.Tensor]) -> list:
    """Names of the members in a sweep state dict, in order."""
    names = OrderedDict()
    for key in state_dict:
        if key.startswith(_MEMBERS):
            names[key[len(_MEMBERS):].split('.', 1)[0]] = None
    return list(names)


def member_state_dict(state_dict: Dict[str, torch.Tensor], name: str) -> Dict[str, torch.Tensor]:
    """The state dict of member ``name`` as its own detector: shared backbone + its weights."""
    prefix = f'{_MEMBERS}{name}.'
    out = OrderedDict((k, v) for k, v in state_dict.items() if k.startswith(_BACKBONE))
    out.update((k[len(prefix):], v) for k, v in state_dict.items() if k.startswith(prefix))
    return out


def member_checkpoint_path(checkpoint: str, name: str, out_dir: Optional[str] = None) -> str:
    """Where :func:`split_sweep_checkpoint` writes member ``name``'s checkpoint:
    ``<out_dir>/<checkpoint stem>_<name>.pth`` (``out_dir``: the checkpoint's folder)."""
    stem = osp.splitext(osp.basename(checkpoint))[0]
    return osp.join(osp.dirname(checkpoint) if out_dir is None else out_dir, f'{stem}_{name}.pth')


def split_sweep_checkpoint(checkpoint: str, out_dir: str,
                           members: Optional[Sequence[str]] = None) -> Dict[str, str]:
    """Write ``<out_dir>/<checkpoint stem>_<member>.pth`` for every (or each listed) member.

    Each file is a standard checkpoint, ``{'meta': ..., 'state_dict': ...}``: the sweep's meta
    (epoch, iteration, dataset meta, the frozen backbone's fingerprints) without the sweep's
    config text, plus ``sweep_member`` and ``sweep_checkpoint``. Optimizer, scheduler and message
    hub state are the sweep's and are left out.

    Returns:
        ``{member: path written}``.

    Raises:
        FileNotFoundError: no such checkpoint.
        ValueError: the checkpoint is not a sweep's, or a listed member is not in it.
    """
    from mmengine.runner.checkpoint import _load_checkpoint
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
    ckpt = _load_checkpoint(checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    state = OrderedDict((k[len('module.'):] if k.startswith('module.') else k, v)
                        for k, v in (state or {}).items())
    found = sweep_member_names(state)
    if not found or not any(k.startswith(_BACKBONE) for k in state):
        raise ValueError(f'{checkpoint} is not a DetectorSweep checkpoint: no "backbone." and '
                         f'"members.<name>." weights (keys look like {list(state)[:3]})')
    wanted = list(members) if members else found
    unknown = [m for m in wanted if m not in found]
    if unknown:
        raise ValueError(f'{checkpoint} has no member {unknown}; its members are {found}')
    meta = dict(ckpt.get('meta') or {})
    meta.pop('cfg', None)  # the sweep's config text; the member's config is its own file
    os.makedirs(out_dir, exist_ok=True)
    written = {}
    for name in wanted:
        path = member_checkpoint_path(checkpoint, name, out_dir)
        torch.save(dict(meta=dict(meta, sweep_member=name, sweep_checkpoint=osp.abspath(checkpoint)),
                        state_dict=member_state_dict(state, name)), path)
        written[name] = path
    return written
