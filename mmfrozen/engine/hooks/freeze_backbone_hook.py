"""``FreezeBackboneHook``: the paper's frozen ImageNet backbone, as an mmdet custom hook."""
from typing import Optional, Sequence, Union

from mmdet.registry import HOOKS

from .freeze_hook import FreezeHook


@HOOKS.register_module()
class FreezeBackboneHook(FreezeHook):
    """Freeze the detector's backbone (``model.backbone`` by default).

    Used with ``runner_type = 'FrozenRunner'``, which applies the freeze when the model is
    built; see :class:`FreezeHook` for what is frozen and checked. Residual adapters inside the
    backbone (``mmfrozen.models``) stay trainable without being listed in ``trainable``.

    Example::

        custom_imports = dict(imports=['mmfrozen'], allow_failed_imports=False)
        runner_type = 'FrozenRunner'
        custom_hooks = [dict(type='FreezeBackboneHook')]
    """

    def __init__(self,
                 module: Union[str, Sequence[str]] = 'backbone',
                 trainable: Sequence[str] = (),
                 allow_random_init: bool = False,
                 check_interval: Optional[int] = None,
                 precision: str = 'fp32',
                 channels_last: bool = False) -> None:
        super().__init__(module=module, trainable=trainable,
                         allow_random_init=allow_random_init, check_interval=check_interval,
                         precision=precision, channels_last=channels_last)
