"""``FrozenRunner``: an mmengine Runner that freezes modules before DDP and the optimizer."""
import inspect
from typing import Dict, Optional, Union

from mmengine.hooks import EMAHook
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper
from mmengine.registry import RUNNERS
from mmengine.runner import BaseLoop, Runner
from torch import nn

from ...checkpoint import refuse_unfit_checkpoint
from ...config import freeze_hooks
from ...freezing.freeze import keep_inference_hooks
from ...freezing.spec import frozen_parameters, unwrap
from ..frozen_model import build_frozen_model, prune_frozen
from ..hooks.share_frozen_with_ema_hook import ShareFrozenWithEMAHook
from ..pretrained import explain_failed_self_loading
from .checks import (check_optimizer_state, check_scheduler_state, refuse_empty_optimizers,
                     refuse_freeze_hooks_in_default_hooks, refuse_no_freeze_hook,
                     run_config_checks, warn_lr_mult_zero)

_RUNNER_SIG = inspect.signature(Runner.__init__)
_SAVE_SIG = inspect.signature(Runner.save_checkpoint)


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
      module that nothing loads pretrained weights into (unless ``allow_random_init=True``):
      :func:`~mmfrozen.engine.frozen_model.build_frozen_model`;
    * runs the checks features register on the whole config (:data:`~mmfrozen.engine.runner.
      checks.CONFIG_CHECKS`) before it builds anything;
    * removes every frozen parameter from the optimizer it builds;
    * with an ``EMAHook``, makes its averaged model share the frozen tensors instead of copying
      them (:class:`~mmfrozen.engine.hooks.ShareFrozenWithEMAHook`);
    * refuses, where mmengine only warns, a checkpoint written by the package that the model
      cannot hold (:func:`~mmfrozen.checkpoint.refuse_unfit_checkpoint`);
    * adds to every checkpoint's meta what the model's ``checkpoint_meta()`` returns, if it has
      one (a sweep: its members' configs).

    Everything else is mmengine's Runner. It refuses to run without a freeze hook in
    ``custom_hooks`` (:func:`~mmfrozen.engine.runner.checks.refuse_no_freeze_hook`): a config
    that inherits a frozen one and sets its own ``custom_hooks`` loses the base's.
    """

    #: What the freeze hooks look for to tell a runner that freezes when it builds the model
    #: (this one) from one that does not (mmengine's), without importing this module.
    FREEZES_AT_BUILD = True

    def __init__(self, *args, **kwargs) -> None:
        bound = _RUNNER_SIG.bind(self, *args, **kwargs)
        refuse_freeze_hooks_in_default_hooks(bound.arguments.get('default_hooks'))
        cfg = bound.arguments.get('cfg')
        run_config_checks(cfg if cfg is not None else bound.arguments)  # before building
        refuse_no_freeze_hook(bound.arguments.get('custom_hooks'))
        # build_model runs inside Runner.__init__, before the hooks are registered
        self._custom_hooks = bound.arguments.get('custom_hooks')
        self._resuming_optimizer = self._resuming_schedulers = False
        self._resuming = False
        super().__init__(*args, **kwargs)

    def build_model(self, model: Union[nn.Module, Dict]) -> nn.Module:
        model_cfg = model if isinstance(model, dict) else None
        with explain_failed_self_loading(model_cfg):
            built = super().build_model(model)
        model = build_frozen_model(built, self._custom_hooks,
                                   load_from=self._load_from, resume=self._resume,
                                   model_cfg=model_cfg)
        warn_lr_mult_zero(self.cfg.get('optim_wrapper'), model)
        return model

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        super().register_hooks(default_hooks, custom_hooks)
        if any(isinstance(h, EMAHook) for h in self.hooks):
            # the EMA model shares the frozen tensors instead of copying them
            self.register_hook(ShareFrozenWithEMAHook())

    def wrap_model(self, model_wrapper_cfg: Optional[Dict], model: nn.Module) -> nn.Module:
        model = super().wrap_model(model_wrapper_cfg, model)
        # (re)verted SyncBN layers are new modules: give them the frozen modules' eval hook
        keep_inference_hooks(unwrap(model))
        return model

    def build_optim_wrapper(self, optim_wrapper: Union[OptimWrapper, Dict]) -> OptimWrapper:
        optim_wrapper = super().build_optim_wrapper(optim_wrapper)
        frozen = frozen_parameters(unwrap(self.model))
        if frozen:
            removed = prune_frozen(optim_wrapper, frozen)
            if removed:
                print_log(f'mmfrozen: removed {removed} frozen parameters from the optimizer',
                          logger='current')
            paths = [s.path for h in freeze_hooks(self._custom_hooks) for s in h.specs]
            refuse_empty_optimizers(optim_wrapper, paths)
        return optim_wrapper

    def resume(self, filename: str, resume_optimizer: bool = True,
               resume_param_scheduler: bool = True, *args, **kwargs) -> None:
        self._resuming_optimizer, self._resuming = resume_optimizer, True
        self._resuming_schedulers = resume_param_scheduler
        try:
            super().resume(filename, resume_optimizer, resume_param_scheduler, *args, **kwargs)
        finally:
            self._resuming_optimizer = self._resuming = self._resuming_schedulers = False

    def save_checkpoint(self, *args, **kwargs) -> None:
        # a model with a checkpoint_meta() method (a sweep: its members' configs) adds to meta
        extra = getattr(unwrap(self.model), 'checkpoint_meta', None)
        if callable(extra):
            bound = _SAVE_SIG.bind(self, *args, **kwargs)
            bound.arguments['meta'] = dict(bound.arguments.get('meta') or {}, **extra())
            args, kwargs = bound.args[1:], bound.kwargs
        super().save_checkpoint(*args, **kwargs)

    def load_checkpoint(self, filename: str, *args, **kwargs):
        checkpoint = super().load_checkpoint(filename, *args, **kwargs)
        # a sweep's checkpoint, or a split member's into another model: refused, not warned
        # (train() builds its loop before it loads: load_from of a training run)
        purpose = ('resume' if self._resuming else
                   'train' if isinstance(self._train_loop, BaseLoop) else 'test')
        refuse_unfit_checkpoint(unwrap(self.model), checkpoint, filename, purpose)
        if self._resuming_optimizer and 'optimizer' in checkpoint:
            # resume() loads the optimizer state next: refuse one saved for other parameters
            check_optimizer_state(self.optim_wrapper, checkpoint['optimizer'], filename,
                                  len(frozen_parameters(unwrap(self.model))))
        if self._resuming_schedulers and self.param_schedulers \
                and 'param_schedulers' in checkpoint:
            check_scheduler_state(self.param_schedulers, checkpoint['param_schedulers'],
                                  filename)
        return checkpoint
