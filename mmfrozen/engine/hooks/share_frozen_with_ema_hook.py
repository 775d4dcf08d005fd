"""EMA with a frozen module: the averaged model shares the frozen tensors instead of copying them.

mmengine's ``EMAHook`` builds its averaged model (``ExponentialMovingAverage``, mmdet's
``ExpMomentumEMA``, ...) as a deep copy of the whole model and averages every parameter (with
``update_buffers``, every buffer) at every step. The average of a frozen tensor is that tensor, so
for a frozen backbone the copy and its update are memory and work for nothing. FrozenRunner adds
:class:`ShareFrozenWithEMAHook` to a run with a freeze hook and an ``EMAHook``; once the EMA model
is built it holds the model's own frozen tensors and its update skips them. Everything the
``EMAHook`` does afterwards is unchanged: its swap around validation and checkpoints swaps a
shared tensor with itself (a no-op), and ``ema_state_dict`` holds the frozen tensors' values.
"""
import logging
from typing import Any, Dict, Optional

from mmengine.hooks import EMAHook, Hook
from mmengine.logging import print_log
from mmengine.model import BaseAveragedModel
from torch import nn

from ...freezing.freeze import share_frozen_tensors
from ...freezing.spec import unwrap

__all__ = ['ShareFrozenWithEMAHook', 'share_frozen_with_ema']


def share_frozen_with_ema(ema_model: nn.Module, model: nn.Module) -> Dict[str, Any]:
    """Make ``ema_model`` (an mmengine averaged model of ``model``) share ``model``'s frozen
    tensors, and leave them out of its update.

    Returns:
        What it did: ``shared_tensors``, ``shared_mb``, ``kept_tensors`` (frozen tensors the
        EMA model holds otherwise and keeps a copy of) and ``message``, for the log.

    Raises:
        TypeError: ``ema_model`` is not an mmengine ``BaseAveragedModel``.
    """
    kind = type(ema_model).__name__
    if not isinstance(ema_model, BaseAveragedModel):
        raise TypeError(f'mmfrozen: the EMA model is a {kind}, not an mmengine '
                        'BaseAveragedModel (module, avg_parameters, update_parameters), so its '
                        'copy of the frozen tensors cannot be shared with the model. Derive '
                        'the ema_type of the EMAHook from mmengine.model.BaseAveragedModel.')
    shared, kept = share_frozen_tensors(model, ema_model.module)
    ema_model.avg_parameters = {k: v for k, v in ema_model.avg_parameters.items()
                                if k not in shared}
    size = sum({t.data_ptr(): t.numel() * t.element_size() for t in shared.values()}.values())
    message = (f'mmfrozen: the EMA model ({kind}) shares {len(shared)} frozen tensors '
               f'({size / 2**20:.1f} MB) with the model instead of copying them; its update '
               'skips them')
    if kept:
        message += (f'. It keeps its own copy of {len(kept)} frozen tensors (first: '
                    f'{kept[0]!r}): it holds them on another device, in another dtype or with '
                    'other values than the model (e.g. the EMAHook sets device=)')
    return dict(shared_tensors=len(shared), shared_mb=size / 2**20, kept_tensors=len(kept),
                message=message)


class ShareFrozenWithEMAHook(Hook):
    """Make every ``EMAHook``'s averaged model share the model's frozen tensors.

    Added by :class:`~mmfrozen.engine.runner.FrozenRunner` (``LOWEST`` priority, so that its
    ``before_run`` comes after the one of the ``EMAHook`` that builds the averaged model) to runs
    that freeze modules and have an ``EMAHook``; nothing to configure.
    """
    priority = 'LOWEST'

    def before_run(self, runner) -> None:
        model = unwrap(runner.model)
        for hook in runner.hooks:
            if not isinstance(hook, EMAHook):
                continue
            ema_model: Optional[nn.Module] = getattr(hook, 'ema_model', None)
            if ema_model is None:
                print_log(f'mmfrozen: {type(hook).__name__} built no EMA model in before_run '
                          'before this hook ran, so its EMA model keeps its own copy of the '
                          'frozen tensors. Give it a priority above LOWEST.', logger='current',
                          level=logging.WARNING)
                continue
            if not isinstance(ema_model, BaseAveragedModel):
                print_log(f'mmfrozen: the EMA model is a {type(ema_model).__name__}, not an '
                          'mmengine BaseAveragedModel, so it keeps its own copy of the frozen '
                          'tensors. Derive its class from mmengine.model.BaseAveragedModel to '
                          'share them.', logger='current', level=logging.WARNING)
                continue
            done = share_frozen_with_ema(ema_model, model)
            print_log(done['message'], logger='current',
                      level=logging.WARNING if done['kept_tensors'] else logging.INFO)
