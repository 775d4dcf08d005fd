"""Split a sweep checkpoint into one standard mmdet checkpoint and config per member.

A :class:`~mmfrozen.sweep.DetectorSweep` checkpoint holds the shared backbone under
``backbone.`` and each member's own weights under ``members.<name>.``. A member's checkpoint is
the backbone plus the member's weights with that prefix removed: the state dict of the member's
own detector. Its config is the one the sweep trained it with: the member's config file with the
``cfg_options`` the sweep config gives it, as the sweep read it when it was built (recorded in
every checkpoint it writes, :data:`SWEEP_MEMBER_CFGS`), written next to the checkpoint, since
the file alone may build another model (``tools/test.py <stem>_<member>.py <stem>_<member>.pth``).
"""
import copy
import os
import os.path as osp
import warnings
from collections import OrderedDict
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmengine.config import Config

from ..checkpoint import (SWEEP_MEMBER, SWEEP_MEMBER_CONFIG, SWEEP_MEMBERS, model_state_dict,
                          read_checkpoint, strip_prefix, sweep_member_names)
from .config import SweepConfigError, is_inline, is_sweep_config, load_sweep_members

_BACKBONE = 'backbone.'
#: Meta key of a sweep checkpoint: ``{member: config text}``, each member's config as the sweep
#: built it (``DetectorSweep.checkpoint_meta``).
SWEEP_MEMBER_CFGS = 'sweep_member_cfgs'


def member_state_dict(state_dict: Dict[str, torch.Tensor], name: str) -> Dict[str, torch.Tensor]:
    """The state dict of member ``name`` as its own detector: shared backbone + its weights."""
    out = OrderedDict((k, v) for k, v in state_dict.items() if k.startswith(_BACKBONE))
    out.update(strip_prefix(state_dict, f'{SWEEP_MEMBERS}{name}.'))
    return out


def member_checkpoint_path(checkpoint: str, name: str, out_dir: Optional[str] = None) -> str:
    """Where :func:`split_sweep_checkpoint` writes member ``name``'s checkpoint:
    ``<out_dir>/<checkpoint stem>_<name>.pth`` (``out_dir``: the checkpoint's folder); its
    config goes to the same path with ``.py``."""
    stem = osp.splitext(osp.basename(checkpoint))[0]
    return osp.join(osp.dirname(checkpoint) if out_dir is None else out_dir, f'{stem}_{name}.pth')


def _member_configs(sweep_cfg: Config, recorded: Optional[Dict[str, str]],
                    checkpoint: str) -> Dict[str, Config]:
    """Each member's config as the sweep trained it.

    Members given as files: the text the checkpoint records (``recorded``: the file with the
    member's ``cfg_options`` as the sweep read it); for a checkpoint that records none (written
    before mmfrozen recorded them), the file read again now, with a warning. Inline members (a
    config expanded by :func:`~mmfrozen.sweep.expand_sweep_config`, as the package's smoke and
    cost tools run it): the sweep's own runtime with the member's model (shared backbone and
    data preprocessor put back), optimizer wrapper and unwrapped evaluators.

    Raises:
        ValueError: a member's file has to be read again and cannot be.
    """
    members = sweep_cfg.model.members
    if not all(is_inline(e) for e in members.values()):
        if recorded:
            return OrderedDict((n, Config.fromstring(text, '.py'))
                               for n, text in recorded.items())
        try:
            loaded = load_sweep_members(members, check=False)
        except SweepConfigError as e:
            raise ValueError(
                f'{checkpoint} does not record its members\' configs (it was written before '
                'mmfrozen recorded them), so the split reads them from the files the sweep '
                f'config names, to write each member\'s config next to its checkpoint: {e}. '
                'Put the member configs back where the sweep config names them (or split the '
                'checkpoint on the machine that trained it) and split again.') from e
        warnings.warn(
            f'{checkpoint} does not record its members\' configs (it was written before mmfrozen '
            'recorded them): the split read them again from '
            f'{sorted({m.config for m in loaded.values()})} as they are now; if a file changed '
            'since the sweep was trained, the config written for a member is not the one it was '
            'trained with.', stacklevel=3)
        return OrderedDict((n, m.cfg) for n, m in loaded.items())
    out = OrderedDict()
    for name, entry in members.items():
        cfg = copy.deepcopy(sweep_cfg)
        cfg.model = dict(entry['model'], backbone=sweep_cfg.model.backbone,
                         data_preprocessor=sweep_cfg.model.get('data_preprocessor') or {})
        cfg.optim_wrapper = entry.get('optim_wrapper') or {}
        for split in ('val', 'test'):
            evaluator = cfg.get(f'{split}_evaluator')
            if isinstance(evaluator, dict) and evaluator.get('type') == 'SweepMetric':
                cfg[f'{split}_evaluator'] = evaluator['metric']
        out[name] = cfg
    return out


def split_sweep_checkpoint(checkpoint: str, out_dir: str,
                           members: Optional[Sequence[str]] = None) -> Dict[str, Tuple[str, str]]:
    """Write ``<out_dir>/<checkpoint stem>_<member>.pth`` and ``.py`` for every (or each listed)
    member.

    Each ``.pth`` is a standard checkpoint, ``{'meta': ..., 'state_dict': ...}``: the sweep's
    meta (epoch, iteration, dataset meta, the frozen backbone's fingerprints) with the member's
    config text as ``cfg`` (mmengine's place for it), plus ``sweep_member``,
    ``sweep_member_config`` (the ``.py``) and ``sweep_checkpoint``. Optimizer, scheduler and
    message hub state are the sweep's and are left out. Each ``.py`` is the member's config as
    the sweep trained it (``cfg_options`` applied), as the checkpoint records it
    (:data:`SWEEP_MEMBER_CFGS`; see :func:`_member_configs` for older checkpoints), with the
    sweep's ``auto_scale_lr`` (whether the run scaled the members' LR); testing the
    checkpoint with a model of another shape is refused
    (:func:`~mmfrozen.checkpoint.refuse_unfit_checkpoint`).

    Returns:
        ``{member: (config path, checkpoint path)}``.

    Raises:
        FileNotFoundError: no such checkpoint.
        ValueError: the checkpoint is not a sweep's (or is already a split member's), records
            no sweep config, or a listed member is not in it; a member's config file it does not
            record cannot be read.
    """
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
    ckpt = read_checkpoint(checkpoint)
    meta = dict(ckpt.get('meta') or {})
    if meta.get(SWEEP_MEMBER):
        raise ValueError(f'{checkpoint} is already member {meta[SWEEP_MEMBER]!r}\'s split of '
                         f'{meta.get("sweep_checkpoint", "a sweep checkpoint")}: it needs no '
                         'split; load it with the config written next to it')
    state = model_state_dict(ckpt)
    found = sweep_member_names(state)
    if not found or not any(k.startswith(_BACKBONE) for k in state):
        raise ValueError(f'{checkpoint} is not a DetectorSweep checkpoint: no "backbone." and '
                         f'"members.<name>." weights (keys look like {list(state)[:3]})')
    wanted = list(members) if members else found
    unknown = [m for m in wanted if m not in found]
    if unknown:
        raise ValueError(f'{checkpoint} has no member {unknown}; its members are {found}')
    text = meta.pop('cfg', None)  # the sweep's config; each member gets its own
    recorded = meta.pop(SWEEP_MEMBER_CFGS, None)
    sweep_cfg = Config.fromstring(text, '.py') if isinstance(text, str) else None
    if sweep_cfg is None or not is_sweep_config(sweep_cfg):
        raise ValueError(
            f'{checkpoint} records no DetectorSweep config (meta["cfg"], which the runner writes '
            'into every checkpoint), so the configs its members were trained with are unknown: '
            'split a checkpoint written by the sweep\'s runner, as it was written')
    configs = _member_configs(sweep_cfg, recorded, checkpoint)
    # the LR scaling the sweep ran with (--auto-scale-lr sets it on the sweep at run time): the
    # sweep scaled every member's parameter groups as the member alone would be with it
    if sweep_cfg.get('auto_scale_lr') is not None:
        for cfg in configs.values():
            cfg.auto_scale_lr = copy.deepcopy(sweep_cfg.auto_scale_lr)
    absent = [m for m in wanted if m not in configs]
    if absent:
        raise ValueError(f'{checkpoint} holds weights of members {absent} that the sweep config '
                         f'it records does not name (it names {list(configs)})')
    os.makedirs(out_dir, exist_ok=True)
    written = OrderedDict()
    for name in wanted:
        path = member_checkpoint_path(checkpoint, name, out_dir)
        config = osp.splitext(path)[0] + '.py'
        configs[name].dump(config)
        member_meta = dict(meta, cfg=configs[name].pretty_text, sweep_checkpoint=osp.abspath(
            checkpoint), **{SWEEP_MEMBER: name, SWEEP_MEMBER_CONFIG: osp.abspath(config)})
        torch.save(dict(meta=member_meta, state_dict=member_state_dict(state, name)), path)
        written[name] = (config, path)
    return written
