"""Backbone additions for frozen backbones: residual adapters."""
from .adapted_resnet import AdaptedResNet
from .adapted_resnext import AdaptedResNeXt
from .residual_adapter import ResidualAdapter, attach_residual_adapters

__all__ = ['AdaptedResNet', 'AdaptedResNeXt', 'ResidualAdapter', 'attach_residual_adapters']
