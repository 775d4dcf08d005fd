from .checks import warn_lr_mult_zero
from .frozen_runner import FrozenRunner

__all__ = ['FrozenRunner', 'warn_lr_mult_zero']
