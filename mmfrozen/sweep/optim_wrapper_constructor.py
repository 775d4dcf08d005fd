"""``SweepOptimWrapperConstructor``: each sweep member's parameter groups, from its own config."""
import copy
import inspect
from typing import Dict, Optional

from mmdet.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS
from mmengine.optim import OptimWrapper, OptimWrapperDict, build_optim_wrapper
from torch import nn
from torch.optim import LBFGS, Optimizer, SparseAdam

from .optim_wrapper import MEMBER_KEY, SweepOptimWrapper

_USAGE = ("optim_wrapper = dict(_delete_=True, type='SweepOptimWrapper', "
          "constructor='SweepOptimWrapperConstructor')")


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

    The sweep config states only the wrapper and this constructor::

        optim_wrapper = dict(_delete_=True, type='SweepOptimWrapper',
                             constructor='SweepOptimWrapperConstructor')

    Args:
        optim_wrapper_cfg: The sweep's ``optim_wrapper`` without ``constructor`` and
            ``paramwise_cfg``: ``type`` (a :class:`SweepOptimWrapper`) and optionally
            ``accumulative_counts``.
        paramwise_cfg: Must be None: parameter-wise settings come from each member's config.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None) -> None:
        if paramwise_cfg:
            raise ValueError('SweepOptimWrapperConstructor: paramwise_cfg comes from each '
                             "member's config; remove it from the sweep's optim_wrapper")
        cfg = dict(optim_wrapper_cfg)
        extra = sorted(set(cfg) - {'type', 'accumulative_counts'})
        if extra:
            raise ValueError(
                f"SweepOptimWrapperConstructor: the sweep's optim_wrapper sets {extra}, which come "
                "from each member's own config and would be ignored here. The sweep config "
                f'should state only the wrapper: {_USAGE}')
        wrapper_type = cfg.get('type', 'OptimWrapper')
        cls = OPTIM_WRAPPERS.get(wrapper_type) if isinstance(wrapper_type, str) else wrapper_type
        if not (inspect.isclass(cls) and issubclass(cls, SweepOptimWrapper)):
            raise ValueError(
                f'SweepOptimWrapperConstructor builds a SweepOptimWrapper (per-member gradient '
                f'clipping), got type={wrapper_type!r}. Mixed precision (AmpOptimWrapper) would '
                'share one loss scale among the members; for a cheaper frozen forward use the '
                f"freeze hook's precision='bf16' instead. Use: {_USAGE}")
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
            kind = cfg.get('type', 'OptimWrapper')
            if kind not in ('OptimWrapper', OptimWrapper):
                raise ValueError(f'sweep member {name!r}: optim_wrapper type {kind!r}; a sweep '
                                 'member must use the plain OptimWrapper (see '
                                 'SweepOptimWrapperConstructor)')
            clip_grad[name] = cfg.pop('clip_grad', None)
            counts.add(cfg.pop('accumulative_counts', 1))
            wrapper = build_optim_wrapper(member, cfg)
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
