"""Capacity modules for frozen backbones: residual adapters, LoRA, necks with a capacity dial.

Everything registers into mmdet's ``MODELS`` registry on import (``import mmfrozen``).
Heavier heads (more RPN convolutions, 4conv1fc/4conv2fc RoI heads with GN, deeper RetinaNet
heads, 3-stage class-agnostic Cascade R-CNN) are mmdet modules set up in ``configs/``.
"""
from .backbones import (AdaptedResNet, AdaptedResNeXt, LoRA, LoRAVisionTransformer,
                        LoRAViTEVA02, ResidualAdapter, ResNetRS, ViTEVA02Det,
                        attach_lora, attach_residual_adapters, merge_lora)
from .necks import SimpleFeaturePyramid, StackedBiFPN

__all__ = ['AdaptedResNet', 'AdaptedResNeXt', 'ResidualAdapter', 'attach_residual_adapters',
           'LoRA', 'attach_lora', 'merge_lora', 'LoRAVisionTransformer', 'LoRAViTEVA02',
           'ResNetRS', 'ViTEVA02Det', 'SimpleFeaturePyramid', 'StackedBiFPN']
