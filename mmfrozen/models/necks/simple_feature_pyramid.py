"""``SimpleFeaturePyramid``: multi-scale maps from the single last feature map of a plain ViT.

Li, Mao, Girshick, He, "Exploring Plain Vision Transformer Backbones for Object Detection"
(ViTDet, ECCV 2022) show that a plain, non-hierarchical ViT needs no FPN-style top-down
pathway: a pyramid built from its last map alone, by transposed convolutions (up) and max
pooling (down), each followed by a 1x1 and a 3x3 convolution, is enough. With a frozen ViT
this is the first trainable part of the detector; more capacity (NAS-FPN, ``StackedBiFPN``)
can follow it in a list of necks.
"""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from torch import nn

from mmdet.registry import MODELS


class _ChannelLayerNorm(nn.Module):
    """LayerNorm over the channels of an ``(N, C, H, W)`` map (ViTDet's norm)."""

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.layer_norm(x.permute(0, 2, 3, 1), x.shape[1:2], self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


def _norm(norm_cfg: Optional[dict], channels: int) -> nn.Module:
    if norm_cfg is None:
        return _ChannelLayerNorm(channels)
    return build_norm_layer(norm_cfg, channels)[1]


@MODELS.register_module()
class SimpleFeaturePyramid(BaseModule):
    """ViTDet's simple feature pyramid on one map of a plain backbone.

    Each entry of ``scale_factors`` gives one output level, resampled from the input map:
    ``4`` two stride-2 transposed convolutions (norm and GELU between them), ``2`` one, ``1``
    the map itself, ``0.5`` 2x2 max pooling; then a 1x1 convolution to ``out_channels`` and a
    3x3 convolution, each followed by a norm. Levels beyond ``len(scale_factors)`` up to
    ``num_outs`` are max pooled (kernel 1, stride 2) from the last one, as ViTDet's P6.

    With a patch size ``p`` the output strides are ``p / s`` for every scale factor ``s``
    (ViT-B/16: 4, 8, 16, 32; ViT/14: 3.5, 7, 14, 28), then ``2 p / s_min`` and so on for the
    extra levels. Anchor generators and RoI extractors must use these strides.

    Args:
        in_channels: Channels of the backbone map (ViT embedding width).
        out_channels: Channels of every output level.
        scale_factors: Resampling factor of each level, from the finest; values in
            ``{4, 2, 1, 0.5}``.
        num_outs: Number of output levels (``>= len(scale_factors)``).
        in_index: Which of the backbone's outputs to use (default: the last).
        norm_cfg: Norm after each convolution; ``None`` is a LayerNorm over channels (ViTDet).
        init_cfg: Initialisation config.
    """
    _SUPPORTED = (4.0, 2.0, 1.0, 0.5)

    def __init__(self,
                 in_channels: int,
                 out_channels: int = 256,
                 scale_factors: Sequence[float] = (4.0, 2.0, 1.0, 0.5),
                 num_outs: Optional[int] = None,
                 in_index: int = -1,
                 norm_cfg: Optional[dict] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = dict(
                     type='Xavier', layer=['Conv2d', 'ConvTranspose2d'],
                     distribution='uniform')) -> None:
        super().__init__(init_cfg=init_cfg)
        scale_factors = tuple(float(s) for s in scale_factors)
        bad = [s for s in scale_factors if s not in self._SUPPORTED]
        if not scale_factors or bad:
            raise ValueError(f'SimpleFeaturePyramid: scale_factors must be a non-empty choice '
                             f'from {self._SUPPORTED}, got {scale_factors}')
        if list(scale_factors) != sorted(scale_factors, reverse=True):
            raise ValueError('SimpleFeaturePyramid: scale_factors must go from the finest level '
                             f'to the coarsest (largest first), got {scale_factors}')
        num_outs = len(scale_factors) if num_outs is None else num_outs
        if num_outs < len(scale_factors):
            raise ValueError(f'SimpleFeaturePyramid: num_outs={num_outs} is smaller than the '
                             f'{len(scale_factors)} scale factors')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.scale_factors = scale_factors
        self.num_outs = num_outs
        self.in_index = in_index

        self.resample = nn.ModuleList()
        self.lateral = nn.ModuleList()
        self.output = nn.ModuleList()
        for scale in scale_factors:
            layers, channels = self._resampling(scale, in_channels, norm_cfg)
            self.resample.append(layers)
            self.lateral.append(
                nn.Sequential(
                    nn.Conv2d(channels, out_channels, 1, bias=False),
                    _norm(norm_cfg, out_channels)))
            self.output.append(
                nn.Sequential(
                    nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
                    _norm(norm_cfg, out_channels)))

    @staticmethod
    def _resampling(scale: float, channels: int,
                    norm_cfg: Optional[dict]) -> Tuple[nn.Module, int]:
        if scale == 4.0:
            return nn.Sequential(
                nn.ConvTranspose2d(channels, channels // 2, 2, stride=2),
                _norm(norm_cfg, channels // 2), nn.GELU(),
                nn.ConvTranspose2d(channels // 2, channels // 4, 2, stride=2)), channels // 4
        if scale == 2.0:
            return nn.ConvTranspose2d(channels, channels // 2, 2, stride=2), channels // 2
        if scale == 1.0:
            return nn.Identity(), channels
        return nn.MaxPool2d(2, stride=2), channels

    def forward(self, inputs: Union[torch.Tensor, Sequence[torch.Tensor]]) -> Tuple[torch.Tensor]:
        """Pyramid from ``inputs[in_index]`` (or a single tensor), finest level first."""
        x = inputs if isinstance(inputs, torch.Tensor) else inputs[self.in_index]
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'SimpleFeaturePyramid expects an (N, {self.in_channels}, H, W) map, '
                             f'got shape {tuple(x.shape)}; set the backbone to output feature '
                             "maps (mmpretrain ViTs: out_type='featmap')")
        outs = [out(lat(res(x)))
                for res, lat, out in zip(self.resample, self.lateral, self.output)]
        while len(outs) < self.num_outs:
            outs.append(F.max_pool2d(outs[-1], kernel_size=1, stride=2))
        return tuple(outs)
