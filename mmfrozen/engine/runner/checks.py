"""Config checks for frozen training."""
import inspect
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from mmengine.logging import print_log
from mmengine.optim import OptimWrapperDict
from torch import nn

from ...config import freeze_hook_cfgs
from ...freezing.spec import frozen_parameters

#: Checks :class:`~mmfrozen.engine.runner.FrozenRunner` runs on the whole config before it
#: builds anything; each takes the config and raises on one that cannot run as written. A
#: feature whose model alone cannot see what it needs registers its own here on import
#: (:mod:`mmfrozen.sweep`: its optimizer wrapper, evaluators and runtime against its members').
CONFIG_CHECKS: List[Callable[[Mapping], None]] = []


def register_config_check(check: Callable[[Mapping], None]) -> Callable[[Mapping], None]:
    """Add ``check`` to :data:`CONFIG_CHECKS` (once); return it."""
    if check not in CONFIG_CHECKS:
        CONFIG_CHECKS.append(check)
    return check


def run_config_checks(cfg: Mapping) -> None:
    """Run every check of :data:`CONFIG_CHECKS` on ``cfg``, in the order they were registered."""
    for check in CONFIG_CHECKS:
        check(cfg)


def warn_lr_mult_zero(optim_wrapper_cfg: Optional[dict], model: nn.Module) -> int:
    """Warn about ``paramwise_cfg.custom_keys`` entries with ``lr_mult=0``.

    ``lr_mult=0`` is not freezing: gradients are still computed, batch-norm statistics still
    move, and momentum/weight decay state is kept. On a frozen module it is redundant. Returns
    the number of warnings.
    """
    custom_keys = ((optim_wrapper_cfg or {}).get('paramwise_cfg') or {}).get('custom_keys') or {}
    frozen = list(frozen_parameters(model))
    warned = 0
    for key, opts in custom_keys.items():
        if not isinstance(opts, dict) or opts.get('lr_mult', 1) != 0:
            continue
        covered = [n for n in frozen if key in n]
        if covered:
            msg = (f"mmfrozen: optim_wrapper.paramwise_cfg.custom_keys['{key}'] sets lr_mult=0 on "
                   f'{len(covered)} parameters that are already frozen (e.g. {covered[0]}). '
                   'It is redundant: frozen parameters are not in the optimizer at all. Remove '
                   'this key.')
        else:
            msg = (f"mmfrozen: optim_wrapper.paramwise_cfg.custom_keys['{key}'] sets lr_mult=0, "
                   'which is not freezing: gradients are computed, batch-norm statistics move '
                   'and optimizer state is kept. To freeze that module, list it in the freeze '
                   "hook's `module` argument and remove this key.")
        print_log(msg, logger='current', level=30)
        warned += 1
    return warned


def refuse_freeze_hooks_in_default_hooks(default_hooks: Optional[Dict[str, Any]]) -> None:
    """Raise if a freeze hook sits in ``default_hooks``, where FrozenRunner does not look.

    Raises:
        ValueError: naming the key and the fix.
    """
    for key, hook in (default_hooks or {}).items():
        if freeze_hook_cfgs([hook]):
            kind = hook.get('type') if isinstance(hook, dict) else type(hook).__name__
            raise ValueError(
                f"mmfrozen: default_hooks['{key}'] is a freeze hook ({kind}). FrozenRunner "
                'freezes the modules of the freeze hooks listed in custom_hooks when it builds '
                'the model (before DDP wrapping and the optimizer); in default_hooks it would '
                f"never be applied. Move it: remove default_hooks['{key}'] and add it to "
                f"custom_hooks, e.g. custom_hooks = [dict(type='{kind}', ...)].")


def refuse_no_freeze_hook(custom_hooks: Optional[Sequence[Any]]) -> None:
    """Raise if FrozenRunner is asked for but no freeze hook is left in ``custom_hooks``: a
    config that inherits a frozen one and sets its own ``custom_hooks`` (an EMA, say) replaces
    the base's list, freeze hook included, and would fine-tune the whole backbone under the
    frozen config's name.

    Raises:
        ValueError: naming what was found and the fix.
    """
    if freeze_hook_cfgs(custom_hooks or []):
        return
    found = [h.get('type') if isinstance(h, dict) else type(h).__name__
             for h in custom_hooks or []]
    raise ValueError(
        "mmfrozen: runner_type='FrozenRunner', but custom_hooks holds no freeze hook "
        f'(custom_hooks: {found}): nothing would be frozen, and the run would train the whole '
        'model. A config that inherits a frozen config and sets custom_hooks replaces the '
        "base's list, its FreezeBackboneHook included (mmengine merges lists by replacing "
        "them): list it in yours, e.g. custom_hooks = [dict(type='FreezeBackboneHook'), "
        "dict(type='EMAHook', ...)]. To fine-tune, drop runner_type (mmengine's Runner).")


def refuse_empty_optimizers(optim_wrapper: Any, frozen_paths: Sequence[str]) -> None:
    """Raise if removing the frozen parameters left an optimizer with nothing to optimize.

    mmengine would fail much later (``IndexError`` when it reads the learning rate).

    Raises:
        ValueError: naming the optimizer (the key of an ``OptimWrapperDict``).
    """
    wrappers = (dict(optim_wrapper.items()) if isinstance(optim_wrapper, OptimWrapperDict) else
                {None: optim_wrapper})
    for name, wrapper in wrappers.items():
        if not wrapper.optimizer.param_groups:
            which = ('the optimizer' if name is None else
                     f"optimizer '{name}' of the OptimWrapperDict")
            raise ValueError(
                f'mmfrozen: {which} ({type(wrapper.optimizer).__name__}) held only parameters '
                f'of the frozen module(s) {list(frozen_paths)}: with them removed it has '
                'nothing left to optimize. Remove that optimizer from optim_wrapper (or from '
                'its constructor), or keep some of its parameters trainable (the freeze hook\'s '
                'trainable=[...]).')


def changed_optimizer_setting(saved: Mapping, group: Mapping, ignore: Sequence[str] = ()
                              ) -> Optional[Tuple[str, Any, Any]]:
    """The first optimizer setting of a parameter group that differs between a saved state and
    this run, as ``(key, saved value, value)``; None if none does.

    A setting a parameter scheduler moves (``lr``; ``momentum`` under a momentum scheduler, and
    the first of Adam's ``betas``, its momentum) is compared by the value it started from,
    ``initial_<key>``, which the scheduler records in the group (the rest of ``betas`` as it
    is); keys only one side has (another torch version's defaults) and ``ignore`` are not
    compared.
    """
    for key in saved:
        scheduled = f'initial_{"momentum" if key == "betas" else key}' in group
        if key == 'params' or key in ignore or key not in group or (
                scheduled and key != 'betas'):
            continue
        a, b = saved[key], group[key]
        # the momentum scheduler moves betas[0] only
        x, y = (tuple(a)[1:], tuple(b)[1:]) if key == 'betas' and scheduled else (a, b)
        same = (torch.equal(torch.as_tensor(x), torch.as_tensor(y))
                if isinstance(x, torch.Tensor) or isinstance(y, torch.Tensor) else x == y)
        if not same:
            return key, a, b
    return None


def _group_sizes(state: Dict[str, Any]) -> List[int]:
    return [len(g['params']) for g in state.get('param_groups', [])]


def _refuse_changed_settings(which: str, wrapper: Any, saved: Dict[str, Any],
                             filename: str) -> None:
    for i, (then, now) in enumerate(zip(saved.get('param_groups', []),
                                        wrapper.optimizer.param_groups)):
        changed = changed_optimizer_setting(then, now)
        if changed:
            key, before, value = changed
            raise ValueError(
                f'mmfrozen: cannot resume {filename}: {which} has {key}={before!r} in it (its '
                f'parameter group {i}) and {key}={value!r} in this run: the optimizer settings '
                'changed since (the config, --cfg-options, or --auto-scale-lr with another '
                'batch: another GPU count scales the LR otherwise), and resuming would go on '
                'with the checkpoint\'s (the optimizer state '
                'replaces the configured values). Put the settings back as they were to go on '
                'with the run, or start a new run from its weights with '
                f'load_from={filename!r} and resume=False.')


#: Settings of every mmengine parameter scheduler besides its own ``__init__`` arguments.
_SCHEDULER_SETTINGS = ('begin', 'end', 'by_epoch', 'param_name')


def _scheduler_settings(scheduler: Any) -> List[str]:
    """The state keys of ``scheduler`` that its config sets (its class's ``__init__``
    arguments and :data:`_SCHEDULER_SETTINGS`), not what its steps move (``last_step``,
    ``ReduceOnPlateauLR``'s ``best``...)."""
    names = set(_SCHEDULER_SETTINGS)
    for cls in type(scheduler).__mro__:
        if '__init__' in vars(cls):
            names |= set(inspect.signature(cls.__init__).parameters)
    return sorted(names - {'self', 'optimizer', 'verbose', 'last_step'})


def check_scheduler_state(schedulers: Any, saved: Any, filename: str) -> None:
    """Refuse to resume parameter schedulers whose settings changed since the checkpoint
    (milestones, gamma, T_max, begin/end...): mmengine's resume replaces the configured
    schedule with the checkpoint's without a word.

    Raises:
        ValueError: naming the scheduler, the setting and both values.
    """
    if isinstance(schedulers, dict) and isinstance(saved, dict):  # one list per optimizer
        for key in schedulers:
            check_scheduler_state(schedulers[key], saved.get(key, []), filename)
        return
    now = list(schedulers or [])
    then = list(saved or [])
    if not all(callable(getattr(s, 'state_dict', None)) for s in now):
        return  # not built (configs): nothing the checkpoint's state would replace yet
    how = ('Resuming continues the same run: put the param_scheduler back as it was, or start '
           f'a new run from its weights with load_from={filename!r} and resume=False.')
    if now and len(now) != len(then):
        raise ValueError(f'mmfrozen: cannot resume {filename}: it holds the state of '
                         f'{len(then)} parameter schedulers, this run has {len(now)} '
                         f'({[type(s).__name__ for s in now]}): the param_scheduler changed '
                         f'since, and resuming would go on with the checkpoint\'s. {how}')
    for i, (scheduler, state) in enumerate(zip(now, then)):
        mine = scheduler.state_dict()
        for key in _scheduler_settings(scheduler):
            if key not in state or key not in mine or mine[key] == state[key]:
                continue
            before = state[key]
            raise ValueError(
                f'mmfrozen: cannot resume {filename}: parameter scheduler {i} '
                f'({type(scheduler).__name__}) has {key}={before!r} in it and '
                f'{key}={mine[key]!r} in this run: the param_scheduler changed since (or, for '
                'one given in epochs, the iterations of an epoch: another batch size, GPU count '
                'or dataset), and resuming would go on with the checkpoint\'s (its state '
                f'replaces the configured one). {how}')


def check_optimizer_state(optim_wrapper: Any, state: Dict[str, Any], filename: str,
                          num_frozen: int) -> None:
    """Refuse to resume an optimizer state saved for other parameters or settings than this
    run's.

    FrozenRunner builds the optimizer without the frozen parameters, so the state of a run
    written by stock mmdet (nothing frozen) or under another freeze spec does not fit it; torch
    would only say that a parameter group "doesn't match the size of optimizer's group". An
    optimizer wrapper with a ``check_state_dict(state, filename)`` method checks the state first
    (the sweep's names the members that changed); otherwise each parameter group's settings
    (learning rate, weight decay, ...) must be the configured ones: mmengine would silently
    replace the configured values with the checkpoint's.

    Raises:
        ValueError: naming the checkpoint, the group sizes and ``load_from`` as the way out.
    """
    if isinstance(optim_wrapper, OptimWrapperDict):
        pairs = [(f"optimizer '{k}'", w, state.get(k, {})) for k, w in optim_wrapper.items()]
    else:
        pairs = [('the optimizer', optim_wrapper, state)]
    for which, wrapper, saved in pairs:
        if not hasattr(wrapper, 'optimizer'):
            continue  # not built (a config): resume builds it after this check
        if hasattr(wrapper, 'check_state_dict'):  # a wrapper that can say more (the sweep's)
            wrapper.check_state_dict(saved, filename)
        now = wrapper.optimizer.state_dict()
        if _group_sizes(now) == _group_sizes(saved):
            if not hasattr(wrapper, 'check_state_dict'):  # the sweep's compared its own
                _refuse_changed_settings(which, wrapper, saved, filename)
            continue
        raise ValueError(
            f'mmfrozen: cannot resume {filename}: its state of {which} covers '
            f'{sum(_group_sizes(saved))} parameters in param groups of sizes '
            f'{_group_sizes(saved)}, but this run built {which} without its {num_frozen} '
            f'frozen parameters: {sum(_group_sizes(now))} parameters in groups of sizes '
            f'{_group_sizes(now)}. The checkpoint was written by a run that froze other '
            'modules (another freeze hook or trainable list) or none (stock mmdet). Resuming '
            'continues the same run; to start a new one from its weights, use '
            f"load_from='{filename}' with resume=False (weights only: optimizer and schedule "
            'start afresh).')
