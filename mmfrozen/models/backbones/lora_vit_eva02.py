"""``LoRAViTEVA02``: mmpretrain's EVA-02 ViT with LoRA updates for a frozen backbone."""
from mmpretrain.models.backbones import ViTEVA02

from mmdet.registry import MODELS

from .lora import LoRAMixin


@MODELS.register_module()
class LoRAViTEVA02(LoRAMixin, ViTEVA02):
    """mmpretrain ``ViTEVA02`` whose attention linears (optionally the SwiGLU MLP linears) get
    trainable :class:`~mmfrozen.models.LoRA` updates; checkpoint keys unchanged.

    Args:
        lora_cfg: LoRA options, see :class:`~mmfrozen.models.backbones.lora.LoRAMixin`.
        **kwargs: Arguments of :class:`mmpretrain.models.ViTEVA02`.
    """
