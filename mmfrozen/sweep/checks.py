"""The checks of a sweep's whole config, run by ``FrozenRunner`` before it builds anything.

A :class:`~mmfrozen.sweep.DetectorSweep` sees only ``model=``. What else makes a sweep train
each member as the member's own config says is in the rest of the sweep's config: its optimizer
wrapper, its evaluators and its runtime (data, loops, schedule, hooks), which the run takes from
the sweep config, not from the members. :func:`check_sweep_config` refuses a sweep config whose
rest would not do that (or that keys a setting on a metric name the sweep does not report);
importing :mod:`mmfrozen.sweep` registers it into the engine's
:data:`~mmfrozen.engine.runner.checks.CONFIG_CHECKS`.
"""
import inspect
from typing import Any, Dict, List, Mapping, Optional, Tuple

from mmdet.registry import DATASETS, METRICS, PARAM_SCHEDULERS
from mmengine.optim.scheduler import ReduceOnPlateauParamScheduler

from .config import (_ABSENT, SHARED_KEYS, SweepConfigError, SweepMember, _lookup, _short,
                     compared_value, first_difference, is_inline, is_sweep_config,
                     load_sweep_members)
from .metric import SweepMetric
from .optim_wrapper_constructor import check_member_optim_wrapper, check_sweep_optim_wrapper

#: Keys of SHARED_KEYS the sweep config itself legitimately sets otherwise: the model (the
#: members') and the optimizer wrapper (the sweep's own, checked by check_sweep_optim_wrapper).
_SWEEPS_OWN = ('model.', 'optim_wrapper.')
#: Keys a sweep may switch off (None, or not set) while its members set them: no validation.
_SWITCHABLE = ('val_dataloader', 'val_cfg', 'val_evaluator')
#: Keys of SHARED_KEYS the sweep config may set otherwise than its members: testing changes
#: nothing a member learns (tools/test.py --cfg-options test_dataloader.batch_size=1).
_TEST = ('test_dataloader', 'test_cfg', 'test_evaluator')
_EVALUATOR_USAGE = ("val_evaluator = dict(_delete_=True, type='SweepMetric', "
                    'metric={{_base_.val_evaluator}}); test_evaluator = val_evaluator')


def _evaluator_metrics(evaluator: Any) -> List[Any]:
    """The metric configs of an evaluator config (a metric, a list, or an ``Evaluator``)."""
    if isinstance(evaluator, Mapping) and 'metrics' in evaluator:
        evaluator = evaluator['metrics']
    return list(evaluator) if isinstance(evaluator, (list, tuple)) else [evaluator]


def _is_sweep_metric(metric: Any) -> bool:
    kind = metric.get('type') if isinstance(metric, Mapping) else None
    cls = METRICS.get(kind) if isinstance(kind, str) else kind
    return inspect.isclass(cls) and issubclass(cls, SweepMetric)


def check_sweep_evaluators(cfg: Mapping) -> None:
    """Refuse a sweep's val/test evaluator that is not :class:`~mmfrozen.sweep.SweepMetric`:
    a detector's metric reads the one ``pred_instances`` a sweep does not predict (mmdet's
    ``KeyError: 'pred_instances'``, after a whole training epoch)."""
    for split in ('val', 'test'):
        evaluator = cfg.get(f'{split}_evaluator')
        if evaluator is None:
            continue
        others = [m for m in _evaluator_metrics(evaluator) if not _is_sweep_metric(m)]
        if others:
            kinds = [m.get('type') if isinstance(m, Mapping) else m for m in others]
            raise SweepConfigError(
                f"the sweep's {split}_evaluator is {kinds}, not SweepMetric: a DetectorSweep "
                "predicts one result per member (data_sample.member_preds.<member>), and a "
                "detector's metric reads one detector's pred_instances (it would fail with "
                f"KeyError: 'pred_instances' at the first {split} batch"
                f"{', after a whole training epoch' if split == 'val' else ''}). Wrap the "
                f"members' metric, each member then gets its own copy: {_EVALUATOR_USAGE}")


def _metric_list(evaluator: Any) -> List[Any]:
    """The metrics an evaluator computes for each member, in order: each :class:`SweepMetric`
    unwrapped, a single metric as a list of one (``[SweepMetric(m1), SweepMetric(m2)]``,
    ``SweepMetric([m1, m2])`` and members' ``[m1, m2]`` are one thing)."""
    out: List[Any] = []
    for metric in _evaluator_metrics(evaluator):
        if _is_sweep_metric(metric):
            inner = metric.get('metric')
            out.extend(inner if isinstance(inner, (list, tuple)) else [inner])
        else:
            out.append(metric)
    return out


def check_sweep_runtime(cfg: Mapping, members: Mapping[str, SweepMember]) -> None:
    """Refuse a sweep config whose own runtime differs from what its members agree on.

    The run trains with the sweep config's data, loops, schedule, hooks and evaluators, not
    with the members'. Taking the members' values silently would override what a user set on
    the sweep (``--cfg-options``); so every key of :data:`~mmfrozen.sweep.config.SHARED_KEYS`
    but the model and the optimizer wrapper (the sweep's own) and the test settings (which
    change nothing a member learns) must equal the members' value, apart from what only changes
    how fast the run goes (:func:`~mmfrozen.sweep.config.compared_value`: dataloader workers,
    validation batch size, ``auto_scale_lr.enable``). The validation evaluator compares the
    metrics its ``SweepMetric`` wraps (:func:`_metric_list`); validation may be switched off in
    the sweep (``None`` or not set).

    Raises:
        SweepConfigError: naming the key and both values.
    """
    first = next(iter(members.values()))
    reference = first.cfg.to_dict()
    own = cfg.to_dict() if hasattr(cfg, 'to_dict') else dict(cfg)
    for key, what in SHARED_KEYS:
        if key.startswith(_SWEEPS_OWN) or key in _TEST:
            continue
        theirs, mine = compared_value(reference, key), compared_value(own, key)
        if key in _SWITCHABLE and mine in (None, _ABSENT):
            continue
        if key.endswith('_evaluator') and mine not in (None, _ABSENT):
            mine = _metric_list(mine)
            theirs = theirs if theirs in (None, _ABSENT) else _metric_list(theirs)
        diff = first_difference(theirs, mine, key)
        if diff is None:
            continue
        where, theirs, mine = diff
        single = _lookup(reference, key)
        if key.endswith('_evaluator') and isinstance(single, dict) and 'metrics' not in single:
            where = key + where[len(key) + 2:]  # the members' one metric: no list index
        raise SweepConfigError(
            f'the sweep config and its members disagree on the {what}: {where} is '
            f'{_short(mine)} in the sweep config and {_short(theirs)} in its members (all '
            f'{len(members)} agree, e.g. member {first.name!r}, {first.stem}.py). The run '
            'trains with the '
            "sweep config's data, loops, schedule, evaluators and hooks, so no member would "
            'train as its own config says. Make them agree: set the members\' value in the '
            'sweep config (its _base_ is a member config), or give every member '
            f"cfg_options={{'{where}': ...}} in the sweep's member list.")


def _dataset_classes(cfg: Mapping) -> Optional[Tuple[str, Tuple[str, ...]]]:
    """``(where, class names)`` of the classes the detection heads of the first dataloader's
    data predict, as the config states them or its dataset type declares them (mmdet's
    ``METAINFO``): a panoptic dataset's ``thing_classes`` (its ``classes`` add the stuff
    classes, which the semantic head predicts), else its ``classes``; None if none does."""
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = (cfg.get(key) or {}).get('dataset')
        while isinstance(dataset, Mapping) and isinstance(dataset.get('dataset'), Mapping):
            dataset = dataset['dataset']  # RepeatDataset, ClassBalancedDataset, ...
        if not isinstance(dataset, Mapping):
            continue
        kind = dataset.get('type')
        cls = DATASETS.get(kind) if isinstance(kind, str) else None
        for declared in (dataset.get('metainfo') or {}, getattr(cls, 'METAINFO', None) or {}):
            for field in ('thing_classes', 'classes'):
                if declared.get(field) is not None:
                    return f'{key} {field}', tuple(declared[field])
    return None


def _head_num_classes(node: Any, path: str = 'model',
                      head: bool = False) -> List[Tuple[str, int]]:
    """``(key, num_classes)`` of every ``bbox_head`` and ``mask_head`` (each stage's) of a model
    config, keys as ``--cfg-options`` writes them; the RPN is class-agnostic (mmdet sets its
    own)."""
    found: List[Tuple[str, int]] = []
    if isinstance(node, Mapping):
        if head and isinstance(node.get('num_classes'), int):
            found.append((f'{path}.num_classes', node['num_classes']))
        for key, value in node.items():
            found += _head_num_classes(value, f'{path}.{key}', key in ('bbox_head', 'mask_head'))
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            found += _head_num_classes(value, f'{path}.{i}', head)
    return found


def check_sweep_num_classes(cfg: Mapping, models: Mapping[str, Any]) -> None:
    """Refuse a member whose heads' ``num_classes`` differs from the sweep's data, where the
    config states the classes (mmdet's metric would fail with a bare IndexError at the first
    validation, naming no member; :class:`~mmfrozen.sweep.SweepMetric` names it otherwise).

    Raises:
        SweepConfigError: naming the member, the key and both numbers.
    """
    found = _dataset_classes(cfg)
    if found is None:
        return
    where, classes = found
    for name, model in models.items():
        for key, num in _head_num_classes(model):
            if num != len(classes):
                raise SweepConfigError(
                    f'sweep member {name!r}: {key} is {num}, but the sweep\'s data has '
                    f'{len(classes)} classes ({where}: {_short(classes, 80)}). Its predictions '
                    'would not match the dataset\'s classes. Set it to '
                    f"{len(classes)} in its config, or with cfg_options={{'{key}': "
                    f"{len(classes)}}} in the sweep's member list.")


def _is_plateau_scheduler(scheduler: Any) -> bool:
    kind = scheduler.get('type') if isinstance(scheduler, Mapping) else None
    cls = PARAM_SCHEDULERS.get(kind) if isinstance(kind, str) else kind
    return inspect.isclass(cls) and issubclass(cls, ReduceOnPlateauParamScheduler)


def check_sweep_metric_names(cfg: Mapping, members: List[str]) -> None:
    """Refuse settings keyed on a metric name that a sweep does not report: its metrics are
    ``<member>/<metric>`` (``a/coco/bbox_mAP``), so ``save_best='coco/bbox_mAP'`` fails with a
    bare KeyError after the first validation, and ``save_best='auto'`` keeps the best of the
    first member only. A plateau scheduler is refused: it would lower every member's learning
    rate when one member's metric stalls, where alone each member follows its own.

    Raises:
        SweepConfigError: naming the setting, what the sweep reports and what to write instead.
    """
    checkpoint = (cfg.get('default_hooks') or {}).get('checkpoint')
    best = checkpoint.get('save_best') if isinstance(checkpoint, Mapping) else None
    for key in ([best] if isinstance(best, str) else list(best or [])):
        member = key.split('/', 1)[0]
        if key != 'auto' and member in members and '/' in key:
            continue
        every = [f'{m}/{"coco/bbox_mAP" if key == "auto" else key}' for m in members]
        what = ("'auto' keeps the best checkpoint by the first metric reported, the first "
                f"member's ({members[0]!r}) only" if key == 'auto' else
                f'{key!r} is no metric of the sweep, which reports each member\'s metrics as '
                '<member>/<metric> (it would fail with KeyError after the first validation)')
        raise SweepConfigError(
            f'default_hooks.checkpoint.save_best={best!r}: {what}. Name the members\' metrics '
            f'(members {members}), e.g. save_best={every!r} (a best checkpoint per member) or '
            f'save_best={every[0]!r}.')
    for i, scheduler in enumerate(cfg.get('param_scheduler') or []):
        if _is_plateau_scheduler(scheduler):
            raise SweepConfigError(
                f'param_scheduler.{i} is {scheduler.get("type")!r} (monitor='
                f'{scheduler.get("monitor", "loss")!r}): one scheduler steps every member\'s '
                'parameter groups, so it would lower all members\' learning rates when one '
                'metric stalls, where alone each member follows its own. Not supported in a '
                'sweep: give the members a fixed schedule (MultiStepLR, CosineAnnealingLR, ...) '
                'or train them alone.')


def check_sweep_config(cfg: Mapping) -> None:
    """Refuse a sweep config whose optimizer wrapper (its own or a member's), evaluators,
    runtime, heads or metric-keyed settings (``save_best``, plateau schedulers) would not train
    and evaluate each member as its own config says; a config that is not a sweep passes.

    Raises:
        SweepConfigError, ValueError: naming what was found and what to write instead.
    """
    if not is_sweep_config(cfg):
        return
    members = cfg['model'].get('members')
    loaded: Dict[str, SweepMember] = {}
    if isinstance(members, Mapping) and members and not any(is_inline(e)
                                                            for e in members.values()):
        loaded = load_sweep_members(members)
    lrs = {n: _lookup(m.cfg.to_dict(), 'optim_wrapper.optimizer.lr') for n, m in loaded.items()}
    check_sweep_optim_wrapper(cfg.get('optim_wrapper'), lrs or None)
    wrappers = ({n: m.cfg.get('optim_wrapper') for n, m in loaded.items()} if loaded else
                {n: e.get('optim_wrapper') for n, e in (members or {}).items()
                 if isinstance(e, Mapping)})
    for name, wrapper in wrappers.items():
        check_member_optim_wrapper(name, wrapper or {})
    check_sweep_evaluators(cfg)
    if loaded:
        check_sweep_runtime(cfg, loaded)
        models = {n: m.cfg.to_dict()['model'] for n, m in loaded.items()}
    else:  # expanded: the members' models inline (their runtime files no longer apply)
        models = {n: e.get('model') for n, e in (members or {}).items() if isinstance(e, Mapping)}
    check_sweep_num_classes(cfg, models)
    check_sweep_metric_names(cfg, sorted(models))
