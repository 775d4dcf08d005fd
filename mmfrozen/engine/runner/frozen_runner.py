"""``FrozenRunner``: an mmengine Runner that freezes modules before DDP and the optimizer."""
import inspect
from typing import Dict, List, Optional, Union

from mmengine.logging import print_log
from mmengine.optim import OptimWrapper
from mmengine.registry import RUNNERS
from mmengine.runner import Runner
from mmdet.registry import HOOKS
from torch import nn

from ...freezing import freeze_module, frozen_parameters, optimizers, prune_optimizer, unwrap
from ..config_mode import freeze_hook_cfgs
from ..hooks.freeze_hook import FreezeHook
from ..pretrained import assert_pretrained
from .checks import warn_lr_mult_zero

_RUNNER_SIG = inspect.signature(Runner.__init__)


# Registered in mmengine's root registry: mmdet's tools/train.py builds `runner_type` with it
# before any default scope is set.
@RUNNERS.register_module()
class FrozenRunner(Runner):
    """Runner that applies the freeze hooks' specs when the model is built.

    mmengine's Runner builds the model and wraps it in DDP in ``__init__``, and builds the
    optimizer in ``train()`` before any hook runs. A module frozen later by a hook would still be
    registered with DDP's reducer (which then waits for gradients that never come unless
    ``find_unused_parameters=True``) and would sit in the optimizer. This runner reads every
    :class:`~mmfrozen.engine.hooks.FreezeHook` in ``custom_hooks`` and:

    * freezes those modules right after the model is built, before DDP wrapping, and refuses a
      module that nothing loads pretrained weights into (unless ``allow_random_init=True``);
    * removes every frozen parameter from the optimizer it builds.

    Everything else is mmengine's Runner; with no freeze hook it behaves exactly like it.
    """

    def __init__(self, *args, **kwargs) -> None:
        bound = _RUNNER_SIG.bind(self, *args, **kwargs)
        self._freeze_hooks = self._find_freeze_hooks(bound.arguments.get('custom_hooks'))
        super().__init__(*args, **kwargs)

    @staticmethod
    def _find_freeze_hooks(custom_hooks: Optional[List]) -> List[FreezeHook]:
        found = []
        for hook in freeze_hook_cfgs(custom_hooks):
            if isinstance(hook, dict):
                hook = dict(hook)
                hook.pop('priority', None)  # a Runner argument, as in register_hook
                hook = HOOKS.build(hook)
            found.append(hook)
        return found

    def build_model(self, model: Union[nn.Module, Dict]) -> nn.Module:
        model = super().build_model(model)
        for hook in self._freeze_hooks:
            for spec in hook.specs:
                report = freeze_module(model, spec)
                if hook.allow_random_init:
                    print_log(f'mmfrozen: {spec.path!r} may be frozen at a random '
                              'initialisation (allow_random_init=True)', logger='current',
                              level=30)
                else:
                    source = assert_pretrained(model, spec, self._load_from, self._resume)
                    print_log(f'mmfrozen: weights of {spec.path!r} come from {source}',
                              logger='current')
                print_log(f'mmfrozen: {report}', logger='current')
        if self._freeze_hooks:
            warn_lr_mult_zero(self.cfg.get('optim_wrapper'), model)
        return model

    def build_optim_wrapper(self, optim_wrapper: Union[OptimWrapper, Dict]) -> OptimWrapper:
        optim_wrapper = super().build_optim_wrapper(optim_wrapper)
        frozen = list(frozen_parameters(unwrap(self.model)).values())
        if frozen:
            removed = sum(prune_optimizer(opt, frozen) for opt in optimizers(optim_wrapper))
            if removed:
                print_log(f'mmfrozen: removed {removed} frozen parameters from the optimizer',
                          logger='current')
        return optim_wrapper
