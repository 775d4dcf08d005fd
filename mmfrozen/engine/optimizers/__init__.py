"""Optimizer wrapper and constructor of shared-backbone sweeps."""
from .sweep_optim_wrapper import MEMBER_KEY, SweepOptimWrapper
from .sweep_optim_wrapper_constructor import SweepOptimWrapperConstructor

__all__ = ['MEMBER_KEY', 'SweepOptimWrapper', 'SweepOptimWrapperConstructor']
