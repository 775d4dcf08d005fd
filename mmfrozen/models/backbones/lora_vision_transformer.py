"""``LoRAVisionTransformer``: mmpretrain's ViT with LoRA updates for a frozen backbone."""
from mmpretrain.models.backbones import VisionTransformer

from mmdet.registry import MODELS

from .lora import LoRAMixin


@MODELS.register_module()
class LoRAVisionTransformer(LoRAMixin, VisionTransformer):
    """mmpretrain ``VisionTransformer`` (DINOv2, CLIP, DeiT, MAE, ... weights) whose attention
    linears (optionally MLP linears) get trainable :class:`~mmfrozen.models.LoRA` updates.

    All of ViT's arguments are accepted unchanged (``arch='dinov2-b'``, ``patch_size``,
    ``out_type='featmap'``, ``init_cfg`` with an mmpretrain checkpoint and ``prefix='backbone.'``,
    ...); the checkpoint keys are those of the plain ViT.

    Args:
        lora_cfg: LoRA options, see :class:`~mmfrozen.models.backbones.lora.LoRAMixin`, e.g.
            ``dict(rank=8, targets='attn')``.
        **kwargs: Arguments of :class:`mmpretrain.models.VisionTransformer`.
    """
