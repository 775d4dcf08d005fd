"""One run per member of a sweep: the results table shows a sweep's members as ordinary runs.

A :class:`~mmfrozen.sweep.DetectorSweep` run logs every member's losses, learning
rate and metrics under the member's name (``fpn/loss_cls``, ``fpn/lr``, ``fpn/coco/bbox_mAP``)
in one work dir. Split into one :class:`~.run_log.RunLog` per member, named after the member's
own config and summarized with that config (its ``cfg_options`` applied), each member gets a
row with its mode, its parameters (the shared backbone plus its own neck and heads, as if it
were trained alone) and its difference to the fine-tuned twin of its config when the twin's run
is in the table.
"""
import dataclasses
import json
import os
import os.path as osp
import re
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ...checkpoint import read_checkpoint
from ...sweep import (SWEEP_MEMBER_CFGS, SweepConfigError, is_inline, is_sweep_config,
                      sweep_member_configs)
from .run_log import RunLog

#: Keys of a sweep's training records that are the whole sweep's, not one member's.
_SWEEP_ONLY = ('loss', 'lr', 'base_lr', 'grad_norm')


def _member_record(record: dict, prefix: str) -> dict:
    out = {k: v for k, v in record.items() if '/' not in k and k not in _SWEEP_ONLY}
    out.update((k[len(prefix):], v) for k, v in record.items() if k.startswith(prefix))
    return out


def _cfg_options(entry: Any) -> Optional[dict]:
    """A member entry's ``cfg_options`` as a plain dict; None when it has none."""
    options = entry.get('cfg_options') if isinstance(entry, Mapping) else None
    if not options:
        return None
    return options.to_dict() if hasattr(options, 'to_dict') else dict(options)


def _recorded_member_cfgs(run: RunLog, names: List[str]) -> Tuple[Dict[str, str], str]:
    """Member name -> the text of the config the sweep trained it with, and where it was read:
    the record in the run's checkpoint (:data:`~mmfrozen.sweep.checkpoint.SWEEP_MEMBER_CFGS`),
    else the configs a split of a checkpoint wrote in the work dir next to each member's
    weights (``<checkpoint stem>_<member>.py``, the sweep checkpoint since removed); empty
    without either."""
    if run.checkpoint is not None and osp.isfile(run.checkpoint):
        meta = read_checkpoint(run.checkpoint).get('meta') or {}
        if meta.get(SWEEP_MEMBER_CFGS):
            return dict(meta[SWEEP_MEMBER_CFGS]), run.checkpoint
    found = {}
    for name in names:
        # <checkpoint stem>_<name>.py: iter_<n>, epoch_<n> or best_<metric>_<iter|epoch>_<n>
        split = re.compile(rf'^(?:best_.+_)?(?:iter|epoch)_(\d+)_{re.escape(name)}\.py$')
        matches = sorted(
            (int(m[1]), f) for f in os.listdir(run.work_dir)
            if (m := split.match(f)) and osp.isfile(osp.join(run.work_dir, f[:-3] + '.pth')))
        if matches:
            with open(osp.join(run.work_dir, matches[-1][1]), encoding='utf-8') as f:
                found[name] = f.read()
    return found, f'the split configs in {run.work_dir}'


def _same_config(a: Any, b: Any) -> bool:
    """Whether two loaded configs hold the same values (tuples and lists alike, as a config's
    text written and read again gives them)."""
    def plain(cfg: Any) -> Any:
        return json.loads(json.dumps(cfg.to_dict(), sort_keys=True, default=str))
    return plain(a) == plain(b)


def split_sweep_run(run: RunLog) -> Tuple[List[Tuple[RunLog, Optional[Any]]], List[str]]:
    """The runs a work dir's run stands for, each with its loaded config, and warnings.

    An ordinary run is itself, with its dumped config (None when that does not load:
    :func:`~.run_summary.summarize` then reports why). A sweep is one run per member: it keeps
    the sweep's iterations, time and memory (the whole sweep's), its own losses, learning rate
    and metrics without the member prefix, and as its config the one the sweep trained it with,
    which the run's checkpoint records (a file edited since is named in a warning); without a
    checkpoint, the member's config file as it is now.
    """
    if run.config_path is None:
        return [(run, None)], []
    from mmengine.config import Config
    try:
        cfg = Config.fromfile(run.config_path)
    except Exception:  # any error of a user config: summarize() reports it
        return [(run, None)], []
    if not is_sweep_config(cfg):
        return [(run, cfg)], []
    warnings = []
    # each member as the sweep trained it (its checkpoint records the config), not its file
    # as it is now: a file edited for the next experiment would give another model's row
    names = sorted(cfg.model.members)
    try:
        recorded, source = _recorded_member_cfgs(run, names)
    except Exception as exc:  # a truncated or unreadable checkpoint: say so, go on
        warnings.append(f'{run.label}: cannot read the member configs its checkpoint records '
                        f'({type(exc).__name__}: {exc}); the members\' rows use their files as '
                        'they are now')
        recorded, source = {}, ''
    unrecorded = [n for n in names
                  if n not in recorded and not is_inline(cfg.model.members[n])]
    if unrecorded and source:  # (no source: the failure to read was said above)
        warnings.append(f'{run.label}: no checkpoint or split of it records the configs members '
                        f'{unrecorded} trained with; their rows use their files as they are now '
                        '(a file edited since the run would describe another model)')
    try:
        members = {name: (m.config, m.cfg) for name, m in sweep_member_configs(cfg).items()}
    except SweepConfigError as exc:  # e.g. member files that are not on this machine
        warnings.append(f'{run.label}: a sweep whose member configs cannot be read ({exc}); '
                        'its members are named after the paths in its config' + (
                            ', with the configs its checkpoint records' if recorded else
                            ', with mode and parameters unknown'))
        members = {name: (entry if isinstance(entry, str) else entry.get('config', name), None)
                   for name, entry in sorted(cfg.model.members.items())}
    runs = []
    for name, (path, member_cfg) in members.items():
        prefix = f'{name}/'
        try:
            ran = Config.fromstring(recorded[name], '.py') if name in recorded else None
        except Exception as exc:  # e.g. its imports are missing here
            warnings.append(f'{run.label}: the config member {name!r} trained with ({source}) '
                            f'does not load here ({type(exc).__name__}: {exc}); its row uses '
                            'its file as it is now')
            ran = None
        if ran is not None:
            if member_cfg is not None and not _same_config(ran, member_cfg):
                warnings.append(f'{run.label}: member {name!r}\'s config {path} changed since '
                                f'the sweep trained it; its row is the config the sweep '
                                f'trained it with, from {source}')
                path = None  # the file is not what ran
            member_cfg = ran
        stem = osp.splitext(osp.basename(str(members[name][0])))[0]
        member = dataclasses.replace(
            run,
            label=f'{run.label} [{name}]',
            config_stem=stem,
            config_path=path if member_cfg is not None else None,
            train=[_member_record(r, prefix) for r in run.train],
            evals=[dict(e, metrics={k[len(prefix):]: v for k, v in e['metrics'].items()
                                    if k.startswith(prefix)}) for e in run.evals],
            sweep=(run.config_stem, name),
            cfg_options=_cfg_options(cfg.model.members[name]),
            warnings=list(run.warnings))
        runs.append((member, member_cfg))
    warnings.append(f'{run.label}: a sweep of {len(runs)} members ({", ".join(members)}), one '
                    'row each; their s/iter and memory are those of the whole sweep')
    return runs, warnings
