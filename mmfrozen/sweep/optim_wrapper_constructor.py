"""``SweepOptimWrapperConstructor``: each sweep member's parameter groups, from its own config."""
import copy
import inspect
from typing import Any, Dict, Mapping, Optional

from mmdet.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS
from mmengine.optim import AmpOptimWrapper, OptimWrapper, OptimWrapperDict, build_optim_wrapper
from torch import nn
from torch.optim import LBFGS, Optimizer, SparseAdam

from .optim_wrapper import MEMBER_KEY, SweepOptimWrapper

#: What a sweep config writes for its optimizer wrapper.
USAGE = ("optim_wrapper = dict(_delete_=True, type='SweepOptimWrapper', "
         "constructor='SweepOptimWrapperConstructor')")


def _registered(name: Any, registry) -> Any:
    return registry.get(name) if isinstance(name, str) else name


def _refuse_amp(whose: str, cfg: Mapping[str, Any], instead: str) -> None:
    """Refuse an ``AmpOptimWrapper`` in a sweep (``whose``: "the sweep's", or a member's)."""
    wrapper_type = cfg.get('type', 'OptimWrapper')
    cls = _registered(wrapper_type, OPTIM_WRAPPERS)
    if inspect.isclass(cls) and issubclass(cls, AmpOptimWrapper):
        raise ValueError(
            f"{whose} optim_wrapper is type={wrapper_type!r} (loss_scale="
            f"{cfg.get('loss_scale', 'dynamic')!r}; tools/train.py --amp sets both): mixed "
            'precision with loss scaling is not supported for a sweep. One loss scaler would '
            'serve every member: a member whose gradients overflow would skip the step of all '
            'members and lower the scale of all, so no member would train as it does alone. '
            "Supported: the shared frozen backbone's forward in bfloat16 (the freeze hook's "
            "precision='bf16', in the members' configs), the members' necks and heads in fp32. "
            f'{instead}')


def check_member_optim_wrapper(name: str, cfg: Mapping[str, Any]) -> None:
    """Refuse a member's ``optim_wrapper`` whose type is not mmengine's plain ``OptimWrapper``
    (by its registered class: ``'mmengine.OptimWrapper'`` is one): the sweep's
    :class:`SweepOptimWrapper` steps the member's groups and clips them as ``OptimWrapper``
    does; what another wrapper does differently would not happen.

    Raises:
        ValueError: naming the member, the type, why and what to write instead.
    """
    plain = "cfg_options={'optim_wrapper.type': 'OptimWrapper'} in the sweep's member list"
    _refuse_amp(f'sweep member {name!r}: its', cfg, f'Give it the plain wrapper: {plain}.')
    kind = cfg.get('type', 'OptimWrapper')
    if _registered(kind, OPTIM_WRAPPERS) is not OptimWrapper:
        raise ValueError(
            f'sweep member {name!r}: its optim_wrapper is type={kind!r}; in a sweep every '
            "member's parameter groups are stepped by one SweepOptimWrapper (mmengine's "
            'OptimWrapper with gradient clipping per member), so what another wrapper does would '
            f'not happen. Give it the plain wrapper: {plain}, or train it alone.')


def _check_wrapper(cfg: Mapping[str, Any], paramwise_cfg: Optional[dict]) -> None:
    """Refuse a sweep ``optim_wrapper`` (without ``constructor``) the constructor cannot build."""
    wrapper_type = cfg.get('type', 'OptimWrapper')
    cls = _registered(wrapper_type, OPTIM_WRAPPERS)
    _refuse_amp("the sweep's", cfg, f'Run without --amp and keep {USAGE}')
    if not (inspect.isclass(cls) and issubclass(cls, SweepOptimWrapper)):
        raise ValueError(
            f'SweepOptimWrapperConstructor builds a SweepOptimWrapper (per-member gradient '
            f'clipping), got type={wrapper_type!r}. Use: {USAGE}')
    if paramwise_cfg:
        raise ValueError('SweepOptimWrapperConstructor: paramwise_cfg comes from each '
                         "member's config; remove it from the sweep's optim_wrapper")
    # _scope_: mmengine's stamp on a config inherited as package::path, not a setting
    extra = sorted(set(cfg) - {'type', 'accumulative_counts', '_scope_'})
    if extra:
        raise ValueError(
            f"SweepOptimWrapperConstructor: the sweep's optim_wrapper sets {extra}, which come "
            "from each member's own config and would be ignored here. The sweep config "
            f'should state only the wrapper: {USAGE}')


def check_sweep_optim_wrapper(optim_wrapper: Optional[Mapping[str, Any]],
                              member_lrs: Optional[Mapping[str, Any]] = None) -> None:
    """Refuse a sweep config's ``optim_wrapper`` that would not train each member with its own
    parameter groups (:data:`USAGE` is the one that does).

    Args:
        optim_wrapper: The sweep config's ``optim_wrapper``.
        member_lrs: ``{member: lr}`` of the members' own configs, for the message.

    Raises:
        ValueError: naming what was found, what it would do and what to write instead.
    """
    cfg = dict(optim_wrapper or {})
    wrapper = _registered(cfg.get('type', 'OptimWrapper'), OPTIM_WRAPPERS)
    if 'constructor' not in cfg and inspect.isclass(wrapper) and issubclass(
            wrapper, SweepOptimWrapper):
        raise ValueError(
            f"the sweep's optim_wrapper={dict(optim_wrapper)} has no constructor: mmengine's "
            'default one cannot build a SweepOptimWrapper (it needs the parameter groups of '
            f'each member, which SweepOptimWrapperConstructor builds). Write: {USAGE}')
    constructor = cfg.pop('constructor', 'DefaultOptimWrapperConstructor')
    cls = _registered(constructor, OPTIM_WRAPPER_CONSTRUCTORS)
    if not (inspect.isclass(cls) and issubclass(cls, SweepOptimWrapperConstructor)):
        optimizer = cfg.get('optimizer')
        lr = optimizer.get('lr') if isinstance(optimizer, Mapping) else None
        asked = f' (its members ask for lr {dict(member_lrs)})' if member_lrs else ''
        raise ValueError(
            f"a DetectorSweep's optim_wrapper must be built by SweepOptimWrapperConstructor, "
            f'found constructor={constructor!r} in optim_wrapper={dict(optim_wrapper or {})}. '
            'It would train every member in one parameter group at the sweep config\'s own '
            f'settings (lr {lr}){asked}, not with each member\'s own parameter groups, learning '
            'rate and gradient clipping. A _base_ (a member config) sets its own optim_wrapper: '
            f'the sweep config must replace it with {USAGE}')
    paramwise_cfg = cfg.pop('paramwise_cfg', None)
    _check_wrapper(cfg, paramwise_cfg)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class SweepOptimWrapperConstructor:
    """Build one optimizer whose parameter groups are those each member's config builds.

    For every member of a :class:`~mmfrozen.sweep.DetectorSweep` the member's own
    ``optim_wrapper`` config (optimizer arguments, ``paramwise_cfg``, ``constructor``) is built on
    the member alone with mmengine's ``build_optim_wrapper``; the resulting parameter groups, each
    tagged with its member's name, become the groups of one optimizer. So every member keeps the
    learning rate, momentum, weight decay and per-parameter multipliers of its own config, and
    its own ``clip_grad`` (applied per member by :class:`SweepOptimWrapper`). The shared frozen
    backbone is in no group. The merged optimizer is the first member's, with the other members'
    groups added (``add_param_group``); its defaults are the first member's and fill in nothing,
    since every group carries all its settings.

    The sweep config states only the wrapper and this constructor (:data:`USAGE`;
    :func:`check_sweep_optim_wrapper` refuses another when the run is built)::

        optim_wrapper = dict(_delete_=True, type='SweepOptimWrapper',
                             constructor='SweepOptimWrapperConstructor')

    Args:
        optim_wrapper_cfg: The sweep's ``optim_wrapper`` without ``constructor`` and
            ``paramwise_cfg``: ``type`` (a :class:`SweepOptimWrapper`) and optionally
            ``accumulative_counts``.
        paramwise_cfg: Must be None: parameter-wise settings come from each member's config.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None) -> None:
        cfg = dict(optim_wrapper_cfg)
        _check_wrapper(cfg, paramwise_cfg)
        self.optim_wrapper_cfg = cfg

    def __call__(self, model: nn.Module) -> SweepOptimWrapper:
        if hasattr(model, 'module'):
            model = model.module
        members = getattr(model, 'members', None)
        member_cfgs = getattr(model, 'member_optim_wrappers', None)
        if not isinstance(members, nn.ModuleDict) or member_cfgs is None:
            raise TypeError(f'SweepOptimWrapperConstructor needs a DetectorSweep model, got '
                            f'{type(model).__name__}')
        clip_grad: Dict[str, Optional[dict]] = {}
        counts = set()
        merged: Optional[Optimizer] = None
        for name, member in members.items():
            cfg = copy.deepcopy(dict(member_cfgs[name]))
            check_member_optim_wrapper(name, cfg)
            clip_grad[name] = cfg.pop('clip_grad', None)
            counts.add(cfg.pop('accumulative_counts', 1))
            try:
                wrapper = build_optim_wrapper(member, cfg)
            except (NotImplementedError, AttributeError) as exc:  # it looked for the backbone
                constructor = cfg.get('constructor', 'DefaultOptimWrapperConstructor')
                raise ValueError(
                    f'sweep member {name!r}: its optimizer constructor {constructor!r} failed '
                    f'({type(exc).__name__}: {exc}). In a sweep a member\'s optimizer is built '
                    'on its own neck and heads only: its backbone is the shared frozen one, '
                    'which it does not hold (member.backbone is an nn.Identity), so a '
                    'constructor that reads the backbone (layer-wise LR decay reads its layers) '
                    'cannot build it. The frozen backbone has no parameter in the optimizer: '
                    "give the member a constructor that needs no backbone (mmengine's "
                    "DefaultOptimWrapperConstructor with the paramwise_cfg it needs), or train "
                    'it alone.') from exc
            if isinstance(wrapper, OptimWrapperDict):
                raise ValueError(f'sweep member {name!r}: its optimizer constructor builds several '
                                 'optimizers, which a sweep cannot merge')
            optimizer = wrapper.optimizer
            for group in optimizer.param_groups:
                group[MEMBER_KEY] = name
            if merged is None:
                if isinstance(optimizer, (LBFGS, SparseAdam)):
                    raise ValueError(f'sweep member {name!r}: {type(optimizer).__name__} cannot '
                                     "take the other members' parameter groups (LBFGS steps one "
                                     'group, SparseAdam only sparse gradients); a sweep steps '
                                     'one optimizer for all members: choose another one')
                merged = optimizer  # the first member's optimizer takes the others' groups
            elif type(optimizer) is not type(merged):
                raise ValueError(f'sweep members use different optimizers '
                                 f'({type(merged).__name__} and {type(optimizer).__name__} for '
                                 f'{name!r}); a sweep steps one optimizer')
            else:
                # each group is complete (every hyper-parameter its member's optimizer set), so
                # the merged optimizer's defaults fill in nothing
                for group in optimizer.param_groups:
                    merged.add_param_group(group)
        if len(counts) != 1:
            raise ValueError(f'sweep members disagree on accumulative_counts: {sorted(counts)}')
        wrapper_cfg = dict(self.optim_wrapper_cfg)
        count = counts.pop()
        if wrapper_cfg.setdefault('accumulative_counts', count) != count:
            raise ValueError(f"the sweep's accumulative_counts={wrapper_cfg['accumulative_counts']}"
                             f' differs from its members\' ({count})')
        return OPTIM_WRAPPERS.build(wrapper_cfg, default_args=dict(
            optimizer=merged, member_clip_grad=clip_grad))
