"""Backbone additions for frozen backbones: residual adapters, LoRA, ResNet-RS."""
from .adapted_resnet import AdaptedResNet
from .adapted_resnext import AdaptedResNeXt
from .lora import LoRA, attach_lora, merge_lora
from .lora_vision_transformer import LoRAVisionTransformer
from .lora_vit_eva02 import LoRAViTEVA02
from .residual_adapter import ResidualAdapter, attach_residual_adapters
from .resnet_rs import ResNetRS
from .vit_eva02_det import ViTEVA02Det

__all__ = ['AdaptedResNet', 'AdaptedResNeXt', 'ResidualAdapter', 'attach_residual_adapters',
           'LoRA', 'attach_lora', 'merge_lora', 'LoRAVisionTransformer', 'LoRAViTEVA02',
           'ResNetRS', 'ViTEVA02Det']
