"""Config checks for frozen training."""
from typing import Optional

from mmengine.logging import print_log
from torch import nn

from ...freezing import frozen_parameters


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
