"""Residual adapters: small trainable branches in parallel with the blocks of a frozen ResNet.

"Proper Reuse of Image Classification Features Improves Object Detection" (Vasconcelos,
Birodkar, Dumoulin, CVPR 2022) adds residual adapters (Rebuffi et al., "Learning multiple visual
domains with residual adapters", NeurIPS 2017) to the frozen backbone: the ImageNet weights stay
untouched and a few trainable parameters let the features adapt to detection.

Each adapter is a bottleneck of two 1x1 convolutions, ``in -> in/reduction -> out`` (the first
one carries the block's stride), added to the output of its residual block:
``y = block(x) + adapter(x)``. The last convolution starts at zero, so at step 0 the adapted
backbone computes exactly what the plain one does.
"""
from typing import Iterator, Optional

import torch
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from torch import nn

from mmdet.models.backbones.resnet import BasicBlock, Bottleneck
from mmdet.registry import MODELS

from ...freezing.spec import FROZEN_FORWARD_ATTR


@MODELS.register_module()
class ResidualAdapter(BaseModule):
    """A zero-initialised 1x1-conv bottleneck branch for one residual block.

    The class sets ``mmfrozen_trainable = True``: inside a module frozen by
    :func:`mmfrozen.freezing.freeze_module` (``FreezeBackboneHook``) it stays trainable, and the
    integrity guard fingerprints the frozen weights only.

    Args:
        in_channels: Channels entering the residual block.
        out_channels: Channels leaving the residual block.
        stride: Spatial stride of the residual block.
        reduction: Hidden width is ``max(in_channels // reduction, min_channels)``.
        min_channels: Lower bound of the hidden width.
        norm_cfg: Optional norm after the first convolution, e.g. ``dict(type='BN')``.
        init_cfg: Initialisation config (the last convolution is zeroed regardless).
    """
    mmfrozen_trainable = True

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 reduction: int = 16,
                 min_channels: int = 8,
                 norm_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if reduction < 1 or min_channels < 1:
            raise ValueError(f'ResidualAdapter: reduction and min_channels must be >= 1, got '
                             f'reduction={reduction}, min_channels={min_channels}')
        hidden = max(in_channels // reduction, min_channels)
        self.down = nn.Conv2d(in_channels, hidden, 1, stride=stride, bias=norm_cfg is None)
        self.norm = build_norm_layer(norm_cfg, hidden)[1] if norm_cfg else nn.Identity()
        self.act = nn.ReLU(inplace=True)
        self.up = nn.Conv2d(hidden, out_channels, 1, bias=True)
        self.zero_init()

    def zero_init(self) -> None:
        """Zero the output convolution: the branch then adds nothing."""
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def init_weights(self) -> None:
        super().init_weights()
        nn.init.kaiming_normal_(self.down.weight, mode='fan_out', nonlinearity='relu')
        self.zero_init()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.up(self.act(self.norm(self.down(x))))


def _add_adapter_output(block: nn.Module, args, output: torch.Tensor) -> torch.Tensor:
    """Forward hook of an adapted residual block: ``block(x) + block.adapter(x)``."""
    return output + block.adapter(args[0])


def _block_channels(block: nn.Module):
    last = block.conv3 if isinstance(block, Bottleneck) else block.conv2
    return block.conv1.in_channels, last.out_channels, block.stride


def attach_residual_adapters(backbone: nn.Module, adapter_cfg: dict) -> int:
    """Give every residual block of an mmdet ResNet/ResNeXt an ``adapter`` sub-module.

    The adapters live at ``<layer>.<i>.adapter``: the keys of the existing weights are unchanged,
    so ImageNet checkpoints (``torchvision://resnet50``) still load into them. The blocks, the
    stages and the backbone around them are marked ``mmfrozen_frozen_forward = True``: inside a
    frozen module they run in inference mode while the adapters train.

    Args:
        backbone: A built mmdet ResNet-family backbone (has ``res_layers``).
        adapter_cfg: Keyword arguments of :class:`ResidualAdapter` (``reduction``,
            ``min_channels``, ``norm_cfg``) plus ``stages``: a tuple of bools, one per stage,
            saying which stages get adapters (default: all).

    Returns:
        The number of adapters attached.

    Raises:
        TypeError: the backbone has no residual stages of BasicBlock/Bottleneck blocks.
        ValueError: ``stages`` does not have one entry per stage.
    """
    cfg = dict(adapter_cfg)
    layers = [getattr(backbone, name) for name in getattr(backbone, 'res_layers', [])]
    if not layers:
        raise TypeError(f'attach_residual_adapters: {type(backbone).__name__} has no '
                        '`res_layers`; residual adapters support mmdet ResNet/ResNeXt backbones.')
    stages = tuple(cfg.pop('stages', (True, ) * len(layers)))
    if len(stages) != len(layers):
        raise ValueError(f'adapter_cfg.stages has {len(stages)} entries but the backbone has '
                         f'{len(layers)} stages; give one bool per stage.')
    count = 0
    for layer, enabled in zip(layers, stages):
        if not enabled:
            continue
        for block in layer:
            if not isinstance(block, (BasicBlock, Bottleneck)):
                raise TypeError(f'attach_residual_adapters: unsupported block '
                                f'{type(block).__name__}; expected an mmdet BasicBlock or '
                                'Bottleneck (or a subclass).')
            if hasattr(block, 'adapter'):
                raise ValueError('attach_residual_adapters: the backbone already has adapters')
            in_ch, out_ch, stride = _block_channels(block)
            block.adapter = ResidualAdapter(in_ch, out_ch, stride, **cfg)
            block.register_forward_hook(_add_adapter_output)
            for module in (backbone, layer, block):  # their own computation stays frozen
                setattr(module, FROZEN_FORWARD_ATTR, True)
            count += 1
    return count


class ResidualAdaptersMixin:
    """Gives an mmdet ResNet-family backbone trainable residual adapters (``adapter_cfg``).

    Put it before the backbone class: ``class AdaptedResNet(ResidualAdaptersMixin, ResNet)``.
    The adapters stay trainable and follow the train/eval mode whatever ``frozen_stages`` or
    ``norm_eval`` do to the rest of the backbone.
    """

    def __init__(self, adapter_cfg: Optional[dict] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.adapter_cfg = dict(adapter_cfg or {})
        self.num_adapters = attach_residual_adapters(self, self.adapter_cfg)

    def adapters(self) -> Iterator[ResidualAdapter]:
        """All adapters of the backbone."""
        return (m for m in self.modules() if isinstance(m, ResidualAdapter))

    def train(self, mode: bool = True):
        super().train(mode)  # may put stage 1 / all norms in eval and stop their gradients
        for adapter in self.adapters():
            adapter.train(mode)
            for param in adapter.parameters():
                param.requires_grad_(True)
        return self
