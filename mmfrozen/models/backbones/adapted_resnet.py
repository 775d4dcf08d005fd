"""``AdaptedResNet``: mmdet's ResNet with residual adapters for a frozen backbone."""
from typing import Iterator, Optional

from mmdet.models.backbones import ResNet
from mmdet.registry import MODELS

from .residual_adapter import ResidualAdapter, attach_residual_adapters


@MODELS.register_module()
class AdaptedResNet(ResNet):
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

    def __init__(self, adapter_cfg: Optional[dict] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.adapter_cfg = dict(adapter_cfg or {})
        self.num_adapters = attach_residual_adapters(self, self.adapter_cfg)

    def adapters(self) -> Iterator[ResidualAdapter]:
        """All adapters of the backbone."""
        return (m for m in self.modules() if isinstance(m, ResidualAdapter))

    def train(self, mode: bool = True) -> 'AdaptedResNet':
        super().train(mode)  # may put stage 1 / all norms in eval and stop their gradients
        for adapter in self.adapters():
            adapter.train(mode)
            for param in adapter.parameters():
                param.requires_grad_(True)
        return self
