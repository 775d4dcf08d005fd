from .dist import setup_cpu_distributed
from .hooks import FreezeBackboneHook, FreezeHook
from .runner import FrozenRunner

__all__ = ['FreezeHook', 'FreezeBackboneHook', 'FrozenRunner', 'setup_cpu_distributed']
