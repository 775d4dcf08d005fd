"""Hook that freezes modules of a detector and guards them for the whole run."""
import logging
from typing import Dict, Optional, Sequence, Union

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.runner import BaseLoop, EpochBasedTrainLoop
from mmdet.registry import HOOKS

from ...freezing.fingerprint import EDITED_CHECKPOINT, FINGERPRINTS_KEY, Fingerprint
from ...freezing.optimizer import optimizer_holds, optimizers
from ...freezing.spec import (KEPT_GRAD_ATTR, TRAINABLE_ATTR, FreezeSpec, frozen_parameters,
                              frozen_specs, frozen_tensors, resolve_module, trainable_submodules,
                              unwrap)
from ..pretrained import (check_pretrained_reachable, checkpoint_digests,
                          verify_frozen_weights_loaded)

CHECKPOINT_KEY = FINGERPRINTS_KEY

__all__ = ['FreezeHook']


@HOOKS.register_module()
class FreezeHook(Hook):
    """Freeze the modules at ``module`` and check, all run long, that they stay frozen.

    The freezing itself happens when the model is built, before any DDP wrapping, by
    :class:`~mmfrozen.engine.runner.FrozenRunner` (``runner_type = 'FrozenRunner'``), which
    reads this hook's arguments from ``custom_hooks``. The hook then:

    * ``before_run``: checks the freeze was applied as configured (a module it keeps trainable
      and another freeze hook freezes is refused when the model is built:
      :meth:`frozen_kept_part`), and that the optimizer holds no frozen parameter; in a
      training run, that a remote ``init_cfg`` checkpoint of a frozen module is cached or
      reachable before mmengine downloads it;
    * ``before_train`` (after pretrained weights are loaded or a checkpoint is resumed): checks
      that every frozen parameter holds the checkpoint loaded by ``load_from``/resume or, for
      those that checkpoint lacks, the module's ``init_cfg`` Pretrained checkpoint; then
      fingerprints every frozen parameter and buffer;
    * after every epoch (iteration-based loops: every ``val_interval`` iterations) or every
      ``check_interval`` iterations, before every checkpoint save and after training: compares
      against the fingerprint and raises
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
    #: What the config layer looks for to tell a freeze hook, this class or a subclass, from
    #: other hooks without importing this module (:mod:`mmfrozen.config.freeze`).
    FREEZES_MODULES = True

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
        self._loaded: Optional[Dict[str, str]] = None
        self._interval = check_interval

    # -- set-up checks -------------------------------------------------------------------------
    def before_run(self, runner) -> None:
        self.fingerprints, self._saved, self._loaded = {}, {}, None
        self._interval = self.check_interval
        model = unwrap(runner.model)
        applied = frozen_specs(model)
        for spec in self.specs:
            resolve_module(model, spec.path)  # clear error for a wrong path
            if spec.path not in applied:
                raise RuntimeError(self._not_applied_message(runner, spec))
            if applied[spec.path] != spec:
                raise RuntimeError(f'mmfrozen: {spec.path!r} was frozen with {applied[spec.path]}'
                                   f', but this hook asks for {spec}.')
            root = resolve_module(model, spec.path)
            flipped = [n for n, p in root.named_parameters()
                       if getattr(root, KEPT_GRAD_ATTR).get(n, p.requires_grad) != p.requires_grad]
            if flipped:
                raise RuntimeError(
                    f'mmfrozen: {len(flipped)} parameters of the trainable parts of '
                    f'{spec.path!r} (first: {flipped[0]}) no longer have the requires_grad the '
                    'model gave them when it was frozen; something between building the model '
                    'and training changed them. Kept parts train exactly as the model defines.')
            if isinstance(getattr(runner, '_train_loop', None), BaseLoop):
                # train(), not test()/val(): init_weights loads the init_cfg checkpoints next
                check_pretrained_reachable(model, spec)
        held = []
        params = frozen_parameters(model)
        for optimizer in optimizers(getattr(runner, 'optim_wrapper', None)):
            held += optimizer_holds(optimizer, params)
        if held:
            raise RuntimeError(f'mmfrozen: the optimizer holds {len(held)} frozen parameters '
                               f'(first: {held[0]}); they must not be optimized.')

    def frozen_kept_part(self, hooks: Sequence[Hook], model, spec: FreezeSpec) -> Optional[str]:
        """Why a module that ``spec`` (one of this hook's) keeps trainable is frozen by another
        applied spec, or None: a spec at or inside it, or one around it that does not keep it
        too. ``hooks`` are the run's freeze hooks, to name the other one.
        :func:`~mmfrozen.engine.build_frozen_model` refuses the model when the freezes are
        applied, before anything reads their effect (requires_grad, the optimizer)."""
        applied = frozen_specs(model)
        prefix = f'{spec.path}.' if spec.path else ''
        for kept, module in trainable_submodules(resolve_module(model, spec.path), spec).items():
            full = prefix + kept
            for path, other in applied.items():
                inside = path == full or path.startswith(full + '.')
                around = path != spec.path and (not path or full.startswith(path + '.'))
                if not inside and not around:
                    continue
                if around:
                    rel = full[len(path) + 1:] if path else full
                    keeps = trainable_submodules(resolve_module(model, path), other)
                    if any(rel == k or rel.startswith(k + '.') for k in keeps):
                        continue  # kept trainable there too
                by = [h for h in hooks if isinstance(h, FreezeHook) and h is not self
                      and any(s.path == path for s in h.specs)]
                by = (f'{type(by[0]).__name__}(module={path!r})' if by else
                      f'a freeze of {path!r} applied when the model was built')
                why = (f'trainable={list(spec.trainable)}' if spec.trainable and not getattr(
                    type(module), TRAINABLE_ATTR, False) else
                       f'{type(module).__name__} sets {TRAINABLE_ATTR} = True')
                head = (f'mmfrozen: {type(self).__name__}(module={spec.path!r}) keeps {full!r} '
                        f'trainable ({why}), but {by} freezes ')
                if inside:
                    return (f'{head}{path!r}: a module cannot be both. Remove the freeze of '
                            f'{path!r}, or, to freeze it, drop it from trainable.')
                where = repr(path) if path else 'the whole model'
                return (f'{head}{where}, which holds it, and does not keep it trainable (its '
                        f'trainable={list(other.trainable)}): a module cannot be both. Add '
                        f'{rel!r} to the trainable of the freeze of {where} to train it, or, to '
                        'freeze it, drop it from this trainable.')
        return None

    def _not_applied_message(self, runner, spec: FreezeSpec) -> str:
        name = type(self).__name__
        if not getattr(runner, 'FREEZES_AT_BUILD', False):  # FrozenRunner's marker
            return (f'mmfrozen: {name} is configured but {spec.path!r} was not frozen when the '
                    'model was built. Add runner_type = \'FrozenRunner\' to the config: '
                    'freezing must happen before the model is wrapped for DDP and before the '
                    'optimizer is built, which a hook alone cannot do.')
        return (f'mmfrozen: {name} for {spec.path!r} is registered with the runner, but not '
                'through custom_hooks (e.g. in default_hooks, or with runner.register_hook '
                'after the runner was built), so FrozenRunner, which freezes the modules of the '
                'freeze hooks listed in custom_hooks when it builds the model, never saw it. '
                f'Move it to custom_hooks: custom_hooks = [dict(type=\'{name}\', ...)].')

    def before_train(self, runner) -> None:
        model = unwrap(runner.model)
        if self._interval is None and not isinstance(runner.train_loop, EpochBasedTrainLoop):
            # an iteration-based loop has no epochs: check at its validation interval
            self._interval = getattr(runner.train_loop, 'val_interval', None) or 1000
        for spec in self.specs:
            if not self.allow_random_init:
                print_log(verify_frozen_weights_loaded(model, spec, self._loaded),
                          logger='current')
            self.fingerprints[spec.path] = Fingerprint.of(model, spec.path)
            saved = self._saved.get(spec.path)
            if saved is not None:
                # the loaded weights must be what was fingerprinted at save time, on the tensors
                # the checkpoint's spec and this run's both freeze
                note = saved.check(model, 'after loading the checkpoint that recorded it',
                                   cause=EDITED_CHECKPOINT, other_coverage=True,
                                   half_copy=True, resumed=bool(getattr(runner, '_resume', False)))
                if note:
                    print_log(note, logger='current', level=logging.WARNING)
            every = f'{self._interval} iterations' if self._interval else 'epoch'
            print_log(
                f'mmfrozen: fingerprinted {len(self.fingerprints[spec.path].digests)} frozen '
                f'tensors of {spec.path!r}; checked every {every}, before each checkpoint and at '
                'the end', logger='current')

    # -- the integrity guard ---------------------------------------------------------------------
    def check(self, runner, when: str) -> None:
        """Compare every frozen module with its fingerprint; raise on the first change."""
        model = unwrap(runner.model)
        for fp in self.fingerprints.values():
            fp.check(model, when)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self._interval and self.every_n_train_iters(runner, self._interval):
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
        model = unwrap(runner.model)
        frozen = {}
        for spec in self.specs:
            prefix = f'{spec.path}.' if spec.path else ''
            frozen.update({prefix + n: t for n, t in
                           frozen_tensors(resolve_module(model, spec.path), spec)})
        self._loaded = checkpoint_digests(checkpoint, frozen, model)
        saved = (checkpoint.get('meta') or {}).get(CHECKPOINT_KEY) or {}
        self._saved = {
            path: Fingerprint.from_dict(d)
            for path, d in saved.items() if path in {s.path for s in self.specs}
        }
