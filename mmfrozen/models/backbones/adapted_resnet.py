"""``AdaptedResNet``: mmdet's ResNet with residual adapters for a frozen backbone."""
from mmdet.models.backbones import ResNet
from mmdet.registry import MODELS

from .residual_adapter import ResidualAdaptersMixin


@MODELS.register_module()
class AdaptedResNet(ResidualAdaptersMixin, ResNet):
    """mmdet ResNet whose residual blocks each get a trainable :class:`ResidualAdapter`.

    All of ResNet's arguments are accepted unchanged (``depth``, ``init_cfg`` with
    ``torchvision://resnet101``, ...). The adapters stay trainable and in training mode whatever
    ``frozen_stages``/``norm_eval`` say, since their purpose is to be trained next to a frozen
    network.

    Args:
        adapter_cfg: Adapter options, see :func:`attach_residual_adapters`, e.g.
            ``dict(reduction=16, stages=(True, True, True, True))``.
        **kwargs: Arguments of :class:`mmdet.models.backbones.ResNet`.
    """
