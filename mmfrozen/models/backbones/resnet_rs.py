"""``ResNetRS``: the backbone of the paper's released configs, from timm, as an mmdet backbone.

Bello et al., "Revisiting ResNets: Improved Training and Scaling Strategies" (NeurIPS 2021):
ResNet-D (deep 3-conv stem, average-pool shortcut downsampling), squeeze-excitation in every
bottleneck (ratio 0.25) and a strided convolution instead of the stem's max pool. "Proper Reuse
of Image Classification Features Improves Object Detection" (Vasconcelos, Birodkar, Dumoulin,
CVPR 2022) freezes ResNet-RS-101 in all its released detection configs.

The network is timm's ``resnetrs{depth}`` through mmpretrain's ``TIMMBackbone``
(``features_only``). timm's published ImageNet checkpoints are classifier state dicts
(``layer1.0.conv1.weight``, ``fc.weight``); this class loads them through ``init_cfg``
``Pretrained`` as they are, without a converted copy: their keys are mapped onto the feature
extractor and the classifier is dropped.
"""
from typing import Sequence

from mmengine.logging import MMLogger
from mmpretrain.models.backbones import TIMMBackbone

from mmdet.registry import MODELS

_DEPTHS = (50, 101, 152, 200, 270, 350, 420)
_TIMM_PREFIX = 'timm_model.'
_CLASSIFIER = 'fc.'


@MODELS.register_module()
class ResNetRS(TIMMBackbone):
    """timm's ResNet-RS as a multi-level mmdet backbone (C2-C5 by default).

    Args:
        depth: One of 50, 101, 152, 200, 270, 350, 420 (timm ``resnetrs{depth}``).
        out_indices: timm feature levels to return: 0 is the stem (stride 2), 1-4 are the
            residual stages C2-C5 (strides 4-32, 256-2048 channels).
        init_cfg: e.g. ``dict(type='Pretrained', checkpoint=<timm checkpoint URL or path>)``;
            both timm's classifier keys and this module's own keys (a checkpoint saved from it)
            load.
        **kwargs: Further arguments of ``timm.create_model`` (``drop_path_rate``,
            ``act_layer``, ...).
    """

    def __init__(self,
                 depth: int = 101,
                 out_indices: Sequence[int] = (1, 2, 3, 4),
                 init_cfg=None,
                 **kwargs) -> None:
        if depth not in _DEPTHS:
            raise ValueError(f'ResNetRS: depth must be one of {_DEPTHS}, got {depth}')
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel('WARNING')  # TIMMBackbone logs timm's feature info at every build
        try:
            super().__init__(
                model_name=f'resnetrs{depth}',
                features_only=True,
                pretrained=False,
                out_indices=tuple(out_indices),
                init_cfg=init_cfg,
                **kwargs)
        finally:
            logger.setLevel(level)
        self.depth = depth
        self.out_channels = tuple(self.timm_model.feature_info.channels())  # 256 .. 2048
        self.strides = tuple(self.timm_model.feature_info.reduction())  # 4 .. 32
        self._register_load_state_dict_pre_hook(self._accept_timm_keys)

    @staticmethod
    def _accept_timm_keys(state_dict, prefix, *args) -> None:
        """Rename timm classifier-checkpoint keys to this module's keys, drop ``fc.*``."""
        for key in [k for k in state_dict if k.startswith(prefix)]:
            rest = key[len(prefix):]
            if rest.startswith(_TIMM_PREFIX):
                continue
            value = state_dict.pop(key)
            if not rest.startswith(_CLASSIFIER):
                state_dict[prefix + _TIMM_PREFIX + rest] = value
