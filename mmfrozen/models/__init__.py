"""Capacity modules for frozen backbones: residual adapters and a neck with a capacity dial.

Everything registers into mmdet's ``MODELS`` registry on import (``import mmfrozen``).
Heavier heads (more RPN convolutions, 4conv1fc/4conv2fc RoI heads with GN, deeper RetinaNet
heads, 3-stage class-agnostic Cascade R-CNN) are mmdet modules set up in ``configs/``.
"""
from .backbones import (AdaptedResNet, AdaptedResNeXt, ResidualAdapter,
                        attach_residual_adapters)
from .necks import StackedBiFPN

__all__ = ['AdaptedResNet', 'AdaptedResNeXt', 'ResidualAdapter', 'attach_residual_adapters',
           'StackedBiFPN']
