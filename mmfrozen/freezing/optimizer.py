"""Optimizer surgery: frozen parameters leave the optimizer (param groups and state)."""
from typing import Any, Dict, List, Sequence

import torch
from torch import nn


def optimizers(optim_wrapper: Any) -> List[torch.optim.Optimizer]:
    """The torch optimizers inside an mmengine ``OptimWrapper`` or ``OptimWrapperDict``."""
    from mmengine.optim import OptimWrapperDict
    if optim_wrapper is None or isinstance(optim_wrapper, dict):
        return []
    if isinstance(optim_wrapper, OptimWrapperDict):
        return [w.optimizer for w in optim_wrapper.values()]
    return [optim_wrapper.optimizer]


def prune_optimizer(optimizer: torch.optim.Optimizer, params: Sequence[nn.Parameter]) -> int:
    """Remove ``params`` from ``optimizer``'s param groups and state; return how many.

    Groups left empty are dropped, so no weight decay, momentum or lr multiplier is ever
    computed for a frozen parameter.
    """
    ids = {id(p) for p in params}
    removed = 0
    groups = []
    for group in optimizer.param_groups:
        kept = [p for p in group['params'] if id(p) not in ids]
        removed += len(group['params']) - len(kept)
        group['params'] = kept
        if kept:
            groups.append(group)
    optimizer.param_groups[:] = groups
    for p in [p for p in optimizer.state if id(p) in ids]:
        del optimizer.state[p]
    return removed


def optimizer_holds(optimizer: torch.optim.Optimizer,
                    params: Dict[str, nn.Parameter]) -> List[str]:
    """Names of ``params`` that ``optimizer`` still has in a param group or in its state."""
    by_id = {id(p): n for n, p in params.items()}
    names = [by_id[id(p)] for g in optimizer.param_groups for p in g['params'] if id(p) in by_id]
    names += [by_id[id(p)] for p in optimizer.state if id(p) in by_id]
    return sorted(set(names))
