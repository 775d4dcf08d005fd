"""``AdaptedResNeXt``: mmdet's ResNeXt with residual adapters for a frozen backbone."""
from typing import Iterator, Optional

from mmdet.models.backbones import ResNeXt
from mmdet.registry import MODELS

from .residual_adapter import ResidualAdapter, attach_residual_adapters


@MODELS.register_module()
class AdaptedResNeXt(ResNeXt):
    """mmdet ResNeXt whose residual blocks each get a trainable :class:`ResidualAdapter`.

    Args:
        adapter_cfg: Adapter options, see :func:`attach_residual_adapters`.
        **kwargs: Arguments of :class:`mmdet.models.backbones.ResNeXt` (``groups``,
            ``base_width``, ``depth``, ...).
    """

    def __init__(self, adapter_cfg: Optional[dict] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.adapter_cfg = dict(adapter_cfg or {})
        self.num_adapters = attach_residual_adapters(self, self.adapter_cfg)

    def adapters(self) -> Iterator[ResidualAdapter]:
        """All adapters of the backbone."""
        return (m for m in self.modules() if isinstance(m, ResidualAdapter))

    def train(self, mode: bool = True) -> 'AdaptedResNeXt':
        super().train(mode)
        for adapter in self.adapters():
            adapter.train(mode)
            for param in adapter.parameters():
                param.requires_grad_(True)
        return self
