from .dist import setup_cpu_distributed
from .frozen_model import build_frozen_model, build_frozen_optim_wrapper, prune_frozen
from .hooks import FreezeBackboneHook, FreezeHook
from .runner import FrozenRunner

__all__ = ['FreezeHook', 'FreezeBackboneHook', 'FrozenRunner', 'setup_cpu_distributed',
           'build_frozen_model', 'build_frozen_optim_wrapper', 'prune_frozen']
