"""``StackedBiFPN``: a feature pyramid whose capacity is set by two dials, depth and width.

"Proper Reuse of Image Classification Features Improves Object Detection" (Vasconcelos,
Birodkar, Dumoulin, CVPR 2022) shows that a frozen backbone needs a decoder with enough
trainable capacity. This neck makes that capacity an explicit dial: ``num_repeats`` stacked
bidirectional (top-down then bottom-up) fusion stages, as in BiFPN (Tan et al., "EfficientDet",
CVPR 2020), each ``out_channels`` wide.
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import nn

from mmdet.registry import MODELS


class _WeightedFusion(nn.Module):
    """Fast normalised fusion: ``sum_i relu(w_i) x_i / (sum_i relu(w_i) + eps)``."""

    def __init__(self, num_inputs: int, eps: float = 1e-4) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_inputs))
        self.eps = eps

    def forward(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        w = F.relu(self.weight)
        w = w / (w.sum() + self.eps)
        return sum(wi * x for wi, x in zip(w, inputs))


class _BiFPNStage(nn.Module):
    """One top-down + bottom-up pass over ``num_levels`` maps of equal width."""

    def __init__(self, num_levels: int, channels: int, conv_cfg: Optional[dict],
                 norm_cfg: Optional[dict], act_cfg: Optional[dict]) -> None:
        super().__init__()

        def conv():
            return ConvModule(channels, channels, 3, padding=1, conv_cfg=conv_cfg,
                              norm_cfg=norm_cfg, act_cfg=act_cfg, order=('act', 'conv', 'norm'))

        n = num_levels
        # top-down node i (i = n-2 .. 0) fuses P_i and the upsampled node above it
        self.td_fuse = nn.ModuleList([_WeightedFusion(2) for _ in range(n - 1)])
        self.td_conv = nn.ModuleList([conv() for _ in range(n - 1)])
        # bottom-up node i (i = 1 .. n-1) fuses P_i, top-down node i (not at the top) and the
        # downsampled node below it
        self.bu_fuse = nn.ModuleList(
            [_WeightedFusion(3 if i < n - 1 else 2) for i in range(1, n)])
        self.bu_conv = nn.ModuleList([conv() for _ in range(n - 1)])

    def forward(self, feats: List[torch.Tensor]) -> List[torch.Tensor]:
        n = len(feats)
        td = [None] * n
        td[-1] = feats[-1]
        for i in range(n - 2, -1, -1):
            up = F.interpolate(td[i + 1], size=feats[i].shape[-2:], mode='nearest')
            td[i] = self.td_conv[i](self.td_fuse[i]([feats[i], up]))
        out = [td[0]]
        for i in range(1, n):
            down = F.adaptive_max_pool2d(out[-1], feats[i].shape[-2:])
            parts = [feats[i], td[i], down] if i < n - 1 else [feats[i], down]
            out.append(self.bu_conv[i - 1](self.bu_fuse[i - 1](parts)))
        return out


@MODELS.register_module()
class StackedBiFPN(BaseModule):
    """Repeated bidirectional feature fusion with explicit depth and width dials.

    Input levels ``start_level ..`` are projected to ``out_channels`` by 1x1 convolutions; extra
    levels up to ``num_outs`` come from stride-2 3x3 convolutions on the last projected level
    (P6, P7).
    ``num_repeats`` :class:`BiFPN stages <_BiFPNStage>` follow, each with ``2 * (num_outs - 1)``
    3x3 convolutions, so trainable parameters grow linearly with ``num_repeats`` and
    quadratically with ``out_channels``.

    Args:
        in_channels: Channels of each backbone output.
        out_channels: Width of every pyramid level (the width dial).
        num_outs: Number of output levels.
        num_repeats: Number of stacked top-down + bottom-up stages (the depth dial).
        start_level: First backbone output used (1 = C3 for a ResNet).
        conv_cfg: Convolution config of the fusion convolutions.
        norm_cfg: Norm config of every convolution, e.g. ``dict(type='BN')``.
        act_cfg: Activation applied before each fusion convolution.
        init_cfg: Initialisation config.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 out_channels: int,
                 num_outs: int = 5,
                 num_repeats: int = 3,
                 start_level: int = 1,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = dict(type='BN', requires_grad=True),
                 act_cfg: Optional[dict] = dict(type='Swish'),
                 init_cfg: Optional[dict] = dict(type='Xavier', layer='Conv2d',
                                                 distribution='uniform')) -> None:
        super().__init__(init_cfg=init_cfg)
        in_channels = list(in_channels)
        if not 0 <= start_level < len(in_channels):
            raise ValueError(f'StackedBiFPN: start_level={start_level} must index in_channels '
                             f'{in_channels}')
        used = len(in_channels) - start_level
        if num_outs < max(used, 2):
            raise ValueError(f'StackedBiFPN: num_outs={num_outs} must be >= the {used} input '
                             'levels used (and >= 2)')
        if num_repeats < 1 or out_channels < 1:
            raise ValueError(f'StackedBiFPN: num_repeats ({num_repeats}) and out_channels '
                             f'({out_channels}) must be >= 1')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_outs = num_outs
        self.num_repeats = num_repeats
        self.start_level = start_level

        self.lateral_convs = nn.ModuleList([
            ConvModule(c, out_channels, 1, conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=None)
            for c in in_channels[start_level:]
        ])
        self.extra_convs = nn.ModuleList([
            ConvModule(out_channels, out_channels, 3, stride=2, padding=1, conv_cfg=conv_cfg,
                       norm_cfg=norm_cfg, act_cfg=None)
            for i in range(num_outs - used)
        ])
        self.stages = nn.ModuleList([
            _BiFPNStage(num_outs, out_channels, conv_cfg, norm_cfg, act_cfg)
            for _ in range(num_repeats)
        ])

    def forward(self, inputs: Tuple[torch.Tensor, ...]) -> Tuple[torch.Tensor, ...]:
        if len(inputs) != len(self.in_channels):
            raise ValueError(f'StackedBiFPN expects {len(self.in_channels)} inputs, got '
                             f'{len(inputs)}')
        feats = [conv(inputs[self.start_level + i]) for i, conv in enumerate(self.lateral_convs)]
        x = feats[-1]
        for conv in self.extra_convs:
            x = conv(x)
            feats.append(x)
        for stage in self.stages:
            feats = stage(feats)
        return tuple(feats)
