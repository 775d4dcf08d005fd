"""``AdaptedResNeXt``: mmdet's ResNeXt with residual adapters for a frozen backbone."""
from mmdet.models.backbones import ResNeXt
from mmdet.registry import MODELS

from .residual_adapter import ResidualAdaptersMixin


@MODELS.register_module()
class AdaptedResNeXt(ResidualAdaptersMixin, ResNeXt):
    """mmdet ResNeXt whose residual blocks each get a trainable :class:`ResidualAdapter`.

    Args:
        adapter_cfg: Adapter options, see :func:`attach_residual_adapters`.
        **kwargs: Arguments of :class:`mmdet.models.backbones.ResNeXt` (``groups``,
            ``base_width``, ``depth``, ...).
    """
