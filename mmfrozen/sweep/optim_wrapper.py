"""``SweepOptimWrapper``: one optimizer for the members of a sweep, gradients clipped per member."""
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional

import torch
from mmdet.registry import OPTIM_WRAPPERS
from mmengine.optim import OptimWrapper
from torch.optim import Optimizer

from ..engine.runner.checks import changed_optimizer_setting

#: Key of a parameter group that names the sweep member it belongs to.
MEMBER_KEY = 'sweep_member'


@OPTIM_WRAPPERS.register_module()
class SweepOptimWrapper(OptimWrapper):
    """mmengine's ``OptimWrapper`` over the parameter groups of several sweep members.

    Every parameter group carries the name of its member (``group['sweep_member']``), and
    gradient clipping is done per member with the member's own ``clip_grad`` (its gradient norm
    is logged as ``<member>/grad_norm``): clipping the members' gradients together would make
    each member's update depend on the others. Built by
    :class:`~mmfrozen.sweep.SweepOptimWrapperConstructor`.

    Args:
        optimizer: The optimizer holding every member's parameter groups.
        member_clip_grad: ``{member: clip_grad}`` as in mmengine's ``OptimWrapper`` (``None`` for
            a member that does not clip).
        accumulative_counts: As in ``OptimWrapper``.
    """

    def __init__(self,
                 optimizer: Optimizer,
                 member_clip_grad: Optional[Mapping[str, Optional[dict]]] = None,
                 accumulative_counts: int = 1) -> None:
        super().__init__(optimizer, accumulative_counts=accumulative_counts)
        missing = [i for i, g in enumerate(optimizer.param_groups) if MEMBER_KEY not in g]
        if missing:
            raise ValueError(f'SweepOptimWrapper: parameter groups {missing} name no sweep member '
                             f'(key {MEMBER_KEY!r}); build it with SweepOptimWrapperConstructor')
        self.members: List[str] = list(OrderedDict.fromkeys(
            g[MEMBER_KEY] for g in optimizer.param_groups))
        self._clippers = {}
        for name, clip_grad in (member_clip_grad or {}).items():
            if name not in self.members:
                raise ValueError(f'SweepOptimWrapper: clip_grad for {name!r}, which owns no '
                                 f'parameter group (members: {self.members})')
            if clip_grad is not None:
                # mmengine's own parsing of clip_grad ('norm' or 'value', and its arguments)
                probe = OptimWrapper(optimizer, clip_grad=dict(clip_grad))
                self._clippers[name] = (probe.clip_func, probe.clip_grad_kwargs, probe.grad_name)

    def member_params(self, name: str) -> List[torch.nn.Parameter]:
        """The parameters of member ``name`` in the optimizer."""
        return [p for g in self.optimizer.param_groups if g[MEMBER_KEY] == name
                for p in g['params']]

    def _clip_grad(self) -> None:
        for name, (clip, kwargs, grad_name) in self._clippers.items():
            params = [p for p in self.member_params(name)
                      if p.requires_grad and p.grad is not None]
            if params:
                value = clip(params, **kwargs)
                if value is not None:  # clip_grad_value_ returns None
                    self.message_hub.update_scalar(f'train/{name}/{grad_name}', float(value))

    def step(self, **kwargs) -> None:
        """Clip every member's gradients with its own settings, then step the optimizer."""
        if self._clippers:
            self._clip_grad()
        self.optimizer.step(**kwargs)

    def check_state_dict(self, state_dict: Mapping, filename: str = 'the checkpoint') -> None:
        """Refuse an optimizer state saved for other members than this sweep's.

        Every saved parameter group names its member, so a member added, removed or renamed
        since the checkpoint was written (or a member whose own parameter groups changed) is
        named, instead of torch's size mismatch or a group silently keeping an old name. So is a
        member whose optimizer settings changed (its learning rate, weight decay, ...): loading
        the state would silently replace them with the checkpoint's.

        Raises:
            ValueError: naming the members (or the member's groups) that differ, and the way out.
        """
        saved_groups = list(state_dict.get('param_groups', []))
        saved = [g.get(MEMBER_KEY) for g in saved_groups]
        how = ('Resuming continues the same run, so its members must be those of the '
               'checkpoint (a member\'s name keys its weights, optimizer state and logs): put '
               'the member list back as it was, or start a new run without resume.')
        if None in saved:
            raise ValueError(
                f'mmfrozen: cannot resume {filename}: its optimizer state is not a sweep\'s (its '
                f'parameter groups name no member, key {MEMBER_KEY!r}), but this run is a sweep '
                f'of {self.members}. {how}')
        before = list(OrderedDict.fromkeys(saved))
        if before != self.members:
            added = [m for m in self.members if m not in before]
            removed = [m for m in before if m not in self.members]
            change = '; '.join(f'{what} {names}' for what, names in (
                ('added', added), ('removed or renamed', removed)) if names) or 'reordered'
            raise ValueError(
                f'mmfrozen: cannot resume {filename}: the sweep\'s members changed since it was '
                f'written: it holds the optimizer state of members {before}, this run has '
                f'{self.members} ({change}). {how}')
        for name in self.members:
            then = [len(g['params']) for g in saved_groups if g[MEMBER_KEY] == name]
            now = [len(g['params']) for g in self.optimizer.param_groups if g[MEMBER_KEY] == name]
            if then != now:
                raise ValueError(
                    f'mmfrozen: cannot resume {filename}: sweep member {name!r} has parameter '
                    f'groups of sizes {then} in it and {now} in this run: the member\'s model or '
                    f'optimizer settings changed since. {how}')
            saved_own = [g for g in saved_groups if g[MEMBER_KEY] == name]
            own = [g for g in self.optimizer.param_groups if g[MEMBER_KEY] == name]
            for i, (then_group, now_group) in enumerate(zip(saved_own, own)):
                changed = changed_optimizer_setting(then_group, now_group, ignore=(MEMBER_KEY,))
                if changed:
                    key, before_value, value = changed
                    raise ValueError(
                        f'mmfrozen: cannot resume {filename}: sweep member {name!r} has '
                        f'{key}={before_value!r} in it (its parameter group {i}) and '
                        f'{key}={value!r} in this run: its optimizer settings changed since, '
                        'and resuming would go on with the checkpoint\'s (the optimizer state '
                        'replaces the configured values). Put its settings back as they were, '
                        'or start a new run from the checkpoint\'s weights with '
                        f'load_from={filename!r} and resume=False.')

    def load_state_dict(self, state_dict: dict) -> None:
        """mmengine's, after :meth:`check_state_dict`."""
        self.check_state_dict(state_dict)
        super().load_state_dict(state_dict)

    def get_lr(self) -> Dict[str, List[float]]:
        """mmengine's learning rates, plus ``<member>/lr`` (its first group's) per member."""
        res = super().get_lr()
        for name in self.members:
            group = next(g for g in self.optimizer.param_groups if g[MEMBER_KEY] == name)
            res[f'{name}/lr'] = [group['lr']]
        return res
