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
import os.path as osp
from typing import Any, List, Mapping, Optional, Tuple

from ...sweep import SweepConfigError, is_sweep_config, sweep_member_configs
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


def split_sweep_run(run: RunLog) -> Tuple[List[Tuple[RunLog, Optional[Any]]], List[str]]:
    """The runs a work dir's run stands for, each with its loaded config, and warnings.

    An ordinary run is itself, with its dumped config (None when that does not load:
    :func:`~.run_summary.summarize` then reports why). A sweep is one run per member: it keeps
    the sweep's iterations, time and memory (the whole sweep's), its own losses, learning rate
    and metrics without the member prefix, and the member's config file as its config.
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
    try:
        members = {name: (m.config, m.cfg) for name, m in sweep_member_configs(cfg).items()}
    except SweepConfigError as exc:  # e.g. member files that are not on this machine
        warnings.append(f'{run.label}: a sweep whose member configs cannot be read ({exc}); '
                        'its members are named after the paths in its config, with mode and '
                        'parameters unknown')
        members = {name: (entry if isinstance(entry, str) else entry.get('config', name), None)
                   for name, entry in sorted(cfg.model.members.items())}
    runs = []
    for name, (path, member_cfg) in members.items():
        prefix = f'{name}/'
        member = dataclasses.replace(
            run,
            label=f'{run.label} [{name}]',
            config_stem=osp.splitext(osp.basename(str(path)))[0],
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
