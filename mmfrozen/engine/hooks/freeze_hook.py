"""Hook that freezes modules of a detector and guards them for the whole run."""
from typing import Dict, List, Optional, Sequence, Union

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapperDict
from mmdet.registry import HOOKS

from ...freezing import (Fingerprint, FreezeSpec, frozen_parameters, frozen_specs,
                         optimizer_holds, resolve_module)
from ..pretrained import verify_loaded_from_pretrained

CHECKPOINT_KEY = 'mmfrozen_fingerprints'


def unwrap(model):
    return model.module if is_model_wrapper(model) else model


def optimizers(optim_wrapper) -> List:
    """The torch optimizers inside an OptimWrapper or OptimWrapperDict."""
    if optim_wrapper is None or isinstance(optim_wrapper, dict):
        return []
    if isinstance(optim_wrapper, OptimWrapperDict):
        return [w.optimizer for w in optim_wrapper.values()]
    return [optim_wrapper.optimizer]


@HOOKS.register_module()
class FreezeHook(Hook):
    """Freeze the modules at ``module`` and check, all run long, that they stay frozen.

    The freezing itself happens when the model is built, before any DDP wrapping, by
    :class:`~mmfrozen.engine.runner.FrozenRunner` (``runner_type = 'FrozenRunner'``), which
    reads this hook's arguments from ``custom_hooks``. The hook then:

    * ``before_run``: checks the freeze was applied as configured and that the optimizer holds
      no frozen parameter;
    * ``before_train`` (after pretrained weights are loaded or a checkpoint is resumed): checks
      the frozen parameters equal the pretrained checkpoint, and fingerprints every frozen
      parameter and buffer;
    * after every epoch (or every ``check_interval`` iterations), before every checkpoint save
      and after training: compares against the fingerprint and raises
      :class:`~mmfrozen.freezing.FrozenModuleChanged` naming the first changed tensor.

    Args:
        module: Attribute path(s) of the module(s) to freeze, from the detector.
        trainable: ``fnmatch`` patterns of sub-module names, relative to ``module``, that stay
            trainable (adapters, a classifier layer).
        allow_random_init: Freeze even if nothing loads pretrained weights into the module.
        check_interval: Also check every N training iterations (default: per epoch only).
        precision: ``'fp32'``, ``'bf16'`` or ``'fp16'`` autocast for the frozen forward.
        channels_last: Channels-last memory format for the frozen forward.
    """
    priority = 'VERY_HIGH'

    def __init__(self,
                 module: Union[str, Sequence[str]],
                 trainable: Sequence[str] = (),
                 allow_random_init: bool = False,
                 check_interval: Optional[int] = None,
                 precision: str = 'fp32',
                 channels_last: bool = False) -> None:
        paths = [module] if isinstance(module, str) else list(module)
        if not paths:
            raise ValueError('mmfrozen: the freeze hook needs at least one module path')
        if check_interval is not None and check_interval <= 0:
            raise ValueError(f'check_interval must be a positive int or None, got {check_interval}')
        self.specs = [
            FreezeSpec(path=p, trainable=tuple(trainable), precision=precision,
                       channels_last=channels_last) for p in paths
        ]
        self.allow_random_init = allow_random_init
        self.check_interval = check_interval
        self.fingerprints: Dict[str, Fingerprint] = {}
        self._saved: Dict[str, Fingerprint] = {}

    # -- set-up checks -------------------------------------------------------------------------
    def before_run(self, runner) -> None:
        model = unwrap(runner.model)
        applied = frozen_specs(model)
        for spec in self.specs:
            resolve_module(model, spec.path)  # clear error for a wrong path
            if spec.path not in applied:
                raise RuntimeError(
                    f'mmfrozen: {type(self).__name__} is configured but {spec.path!r} was not '
                    f'frozen when the model was built. Add runner_type = \'FrozenRunner\' to the '
                    'config: freezing must happen before the model is wrapped for DDP and before '
                    'the optimizer is built, which a hook alone cannot do.')
            if applied[spec.path] != spec:
                raise RuntimeError(f'mmfrozen: {spec.path!r} was frozen with {applied[spec.path]}'
                                   f', but this hook asks for {spec}.')
        held = []
        params = frozen_parameters(model)
        for optimizer in optimizers(getattr(runner, 'optim_wrapper', None)):
            held += optimizer_holds(optimizer, params)
        if held:
            raise RuntimeError(f'mmfrozen: the optimizer holds {len(held)} frozen parameters '
                               f'(first: {held[0]}); they must not be optimized.')

    def before_train(self, runner) -> None:
        model = unwrap(runner.model)
        for spec in self.specs:
            if not runner._resume and not runner._load_from:
                verify_loaded_from_pretrained(model, spec)
            self.fingerprints[spec.path] = Fingerprint.of(model, spec.path)
            saved = self._saved.get(spec.path)
            if saved is not None:
                # the loaded weights must be exactly what was fingerprinted at save time
                saved.check(model, 'after loading the checkpoint that recorded it')
            print_log(
                f'mmfrozen: fingerprinted {len(self.fingerprints[spec.path].digests)} frozen '
                f'tensors of {spec.path!r}; checked every '
                f'{f"{self.check_interval} iterations" if self.check_interval else "epoch"}, '
                'before each checkpoint and at the end', logger='current')

    # -- the integrity guard ---------------------------------------------------------------------
    def check(self, runner, when: str) -> None:
        """Compare every frozen module with its fingerprint; raise on the first change."""
        model = unwrap(runner.model)
        for fp in self.fingerprints.values():
            fp.check(model, when)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self.check_interval and self.every_n_train_iters(runner, self.check_interval):
            self.check(runner, f'at iteration {runner.iter + 1}')

    def after_train_epoch(self, runner) -> None:
        self.check(runner, f'after epoch {runner.epoch + 1}')

    def after_train(self, runner) -> None:
        self.check(runner, 'at the end of training')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if not self.fingerprints:
            return
        self.check(runner, 'before saving a checkpoint')
        checkpoint.setdefault('meta', {})[CHECKPOINT_KEY] = {
            path: fp.to_dict() for path, fp in self.fingerprints.items()
        }

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        saved = (checkpoint.get('meta') or {}).get(CHECKPOINT_KEY) or {}
        self._saved = {
            path: Fingerprint.from_dict(d)
            for path, d in saved.items() if path in {s.path for s in self.specs}
        }
