"""``LoRAViTEVA02``: the EVA-02 ViT with LoRA updates for a frozen backbone."""
from mmdet.registry import MODELS

from .lora import LoRAMixin
from .vit_eva02_det import ViTEVA02Det


@MODELS.register_module()
class LoRAViTEVA02(LoRAMixin, ViTEVA02Det):
    """:class:`ViTEVA02Det` (mmpretrain's ``ViTEVA02``) whose attention linears (optionally the
    SwiGLU MLP linears) get trainable :class:`~mmfrozen.models.LoRA` updates; checkpoint keys
    unchanged.

    Args:
        lora_cfg: LoRA options, see :class:`~mmfrozen.models.backbones.lora.LoRAMixin`.
        **kwargs: Arguments of ``mmpretrain.models.ViTEVA02``.
    """
