"""Freezing a part of a model: the one place where "frozen" is defined in mmfrozen.

Implements the backbone freezing of "Proper Reuse of Image Classification Features Improves
Object Detection" (Vasconcelos, Birodkar, Dumoulin, CVPR 2022). In the official code the
switch sets the Keras backbone ``trainable = False``; in PyTorch terms a frozen module here:

* has ``requires_grad=False`` on every parameter, so autograd records nothing for it when its
  input needs no gradient (no graph, no stored activations), and it is never handed to an
  optimizer (:func:`prune_optimizer`);
* runs every sub-module that holds no trainable part in inference mode (batch-norm
  statistics, dropout, drop-path), no matter how often ``model.train()`` is called. A module
  that holds a trainable part follows ``train()``/``eval()``: its own forward may branch on
  ``self.training`` for the trainable part's sake (FCOS scales box predictions by the stride
  only at test time, DINO builds denoising queries only in training), unless it declares
  ``mmfrozen_frozen_forward = True`` (class or instance attribute): its own computation is
  then frozen and runs in inference mode while the part inside it trains (:func:`attach_lora`
  declares it for the modules around the linears it adapts, so a LoRA ViT's attention dropout
  is off);
* can be fingerprinted (:class:`Fingerprint`) so a guard can prove it never changed.

A :class:`FreezeSpec` may keep named sub-modules trainable (residual adapters inside a frozen
backbone, the classifier in LVIS stage-2 re-training); everything else under the spec's path is
frozen. Hooks, the runner, the adapters, stage-2 re-training and the cost tool all call into this
module; none of them freezes anything by itself.
"""
import fnmatch
import hashlib
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import torch
from torch import nn

#: Attribute set on a module frozen by :func:`freeze_module`.
SPEC_ATTR = '_mmfrozen_spec'
#: Sub-modules that set this class attribute to True stay trainable inside a frozen module.
TRAINABLE_ATTR = 'mmfrozen_trainable'
#: Modules that set this class or instance attribute to True run in inference mode inside a
#: frozen module even while they hold a trainable part: their own computation is frozen.
FROZEN_FORWARD_ATTR = 'mmfrozen_frozen_forward'
#: Attribute of a frozen root: ``requires_grad`` of each parameter of its kept parts, as the
#: model had set it when the module was frozen.
KEPT_GRAD_ATTR = '_mmfrozen_kept_requires_grad'

_PRECISIONS = {'fp32': None, 'bf16': torch.bfloat16, 'fp16': torch.float16}


@dataclass(frozen=True)
class FreezeSpec:
    """What to freeze.

    Args:
        path: Attribute path of the module from the model root, e.g. ``'backbone'`` or
            ``'roi_head.bbox_head'``; ``''`` is the whole model.
        trainable: ``fnmatch`` patterns of sub-module names (relative to ``path``) that stay
            trainable, e.g. ``('*.adapter',)``. Sub-modules whose class sets
            ``mmfrozen_trainable = True`` stay trainable without being listed.
        precision: ``'fp32'`` (default), ``'bf16'`` or ``'fp16'``: run the frozen forward under
            autocast with that dtype; its outputs are cast back to float32. Only for a module
            with no trainable part inside.
        channels_last: Run the frozen forward in channels-last memory format.
    """
    path: str = 'backbone'
    trainable: Tuple[str, ...] = ()
    precision: str = 'fp32'
    channels_last: bool = False

    def __post_init__(self):
        if not isinstance(self.path, str):
            raise TypeError(f'FreezeSpec.path must be a str, got {self.path!r}')
        path = self.path.strip('.')
        if any(not part for part in path.split('.')) and path:
            raise ValueError(f'FreezeSpec.path {self.path!r} has an empty part')
        object.__setattr__(self, 'path', path)
        if isinstance(self.trainable, str):
            object.__setattr__(self, 'trainable', (self.trainable, ))
        object.__setattr__(self, 'trainable', tuple(self.trainable))
        if self.precision not in _PRECISIONS:
            raise ValueError(f'FreezeSpec.precision must be one of {sorted(_PRECISIONS)}, '
                             f'got {self.precision!r}')


def resolve_module(model: nn.Module, path: str) -> nn.Module:
    """Return the sub-module of ``model`` at attribute path ``path`` (``''`` is the model).

    Raises:
        KeyError: naming the first missing part and the children that do exist there.
    """
    module = model
    walked = []
    for part in [p for p in path.split('.') if p]:
        children = dict(module.named_children())
        if part not in children:
            where = '.'.join(walked) or 'the model'
            raise KeyError(
                f'mmfrozen: cannot freeze {path!r}: {where} ({type(module).__name__}) has no '
                f'sub-module {part!r}. Its sub-modules are: {sorted(children) or "none"}. '
                'Fix the `module` argument of the freeze hook.')
        module = children[part]
        walked.append(part)
    return module


def _is_trainable_name(name: str, module: nn.Module, patterns: Sequence[str]) -> bool:
    return bool(getattr(type(module), TRAINABLE_ATTR, False)) or any(
        fnmatch.fnmatchcase(name, pat) for pat in patterns)


def trainable_submodules(root: nn.Module, spec: FreezeSpec) -> Dict[str, nn.Module]:
    """Top-most sub-modules of ``root`` that ``spec`` keeps trainable, by relative name."""
    found: Dict[str, nn.Module] = {}
    for name, module in root.named_modules():
        if not name or any(name.startswith(t + '.') for t in found):
            continue
        if _is_trainable_name(name, module, spec.trainable):
            found[name] = module
    return found


def _in_any(name: str, prefixes: Sequence[str]) -> bool:
    return any(name == p or name.startswith(p + '.') for p in prefixes)


def _holds_any(name: str, names: Sequence[str]) -> bool:
    """True if the module called ``name`` (``''``: the root) contains one of ``names``."""
    return any(not name or n.startswith(name + '.') for n in names)


def frozen_tensors(root: nn.Module,
                   spec: Optional[FreezeSpec] = None) -> Iterator[Tuple[str, torch.Tensor]]:
    """Parameters and buffers of ``root`` that ``spec`` freezes (not its trainable parts)."""
    spec = spec or getattr(root, SPEC_ATTR)
    keep = list(trainable_submodules(root, spec))
    for name, tensor in root.state_dict(keep_vars=True).items():
        if not _in_any(name, keep):
            yield name, tensor


class _ReducedPrecisionForward:
    """Wraps a frozen module's forward: autocast / channels-last inside, float32 outside."""

    def __init__(self, forward, dtype: Optional[torch.dtype], channels_last: bool):
        self.forward = forward
        self.dtype = dtype
        self.channels_last = channels_last

    def _inputs(self, x: Any) -> Any:
        if isinstance(x, torch.Tensor) and x.dim() == 4 and self.channels_last:
            return x.contiguous(memory_format=torch.channels_last)
        if isinstance(x, (list, tuple)):
            return type(x)(self._inputs(v) for v in x)
        return x

    def _outputs(self, x: Any) -> Any:
        if isinstance(x, torch.Tensor):
            x = x.float() if x.is_floating_point() else x
            return x.contiguous() if self.channels_last else x
        if isinstance(x, (list, tuple)):
            return type(x)(self._outputs(v) for v in x)
        if isinstance(x, dict):
            return {k: self._outputs(v) for k, v in x.items()}
        return x

    def __call__(self, *args, **kwargs):
        args = self._inputs(args)
        if self.dtype is None:
            return self._outputs(self.forward(*args, **kwargs))
        device = next((a.device.type for a in args if isinstance(a, torch.Tensor)), 'cpu')
        with torch.autocast(device_type=device, dtype=self.dtype):
            out = self.forward(*args, **kwargs)
        return self._outputs(out)


#: Attribute of every hooked module of a frozen subtree: the sub-modules (name parts relative
#: to that module, ``()`` for itself) that its forward pre-hook puts in inference mode.
EVAL_NAMES_ATTR = '_mmfrozen_eval_names'
#: Attribute of a frozen root: the ``EVAL_NAMES_ATTR`` of each module of its subtree, by name.
HOOKED_ATTR = '_mmfrozen_hooked'


def _keep_eval(module: nn.Module, args) -> None:
    """Forward pre-hook: the frozen parts of ``module`` always run in inference mode.

    Every module of a frozen subtree carries it, so inference mode holds for each frozen
    sub-module whose forward runs, even when the frozen root's own forward never does
    (mmdet's ``StandardRoIHead`` calls its ``bbox_head`` directly). Sub-modules are looked up by
    name at every call, so modules swapped in after freezing (``convert_sync_batchnorm`` when
    the model is wrapped for DDP) are covered by the hook of the module that holds them. It runs
    at every module call: plain dict look-ups and writes (``nn.Module.__setattr__`` costs ten
    times more).
    """
    for parts in module.__dict__[EVAL_NAMES_ATTR]:
        sub = module
        for part in parts:
            sub = sub._modules.get(part)
            if sub is None:  # removed since it was frozen
                break
        else:
            sub.__dict__['training'] = False


def _not_called(module: nn.Module) -> bool:
    """Containers whose own forward never runs: their children are called one by one."""
    return isinstance(module, (nn.ModuleList, nn.ModuleDict))


def _eval_names_per_module(root: nn.Module, eval_names: Sequence[str],
                           keep: Sequence[str]) -> Dict[str, List[Tuple[str, ...]]]:
    """For every module of the frozen subtree, what its pre-hook puts in inference mode.

    The root: every frozen sub-module (so a swapped-in module is found even where only the
    root's forward runs). Any other module outside the kept parts: itself if frozen, and its
    frozen children, looking through ModuleList/ModuleDict whose forward never runs.
    """
    frozen = set(eval_names)
    out: Dict[str, List[Tuple[str, ...]]] = {'': [tuple(n.split('.')) if n else ()
                                                  for n in eval_names]}
    for name, module in root.named_modules():
        if not name or _in_any(name, keep) or _not_called(module):
            continue
        names = [()] if name in frozen else []
        stack = [((c, ), m) for c, m in module.named_children()]
        while stack:
            child, sub = stack.pop(0)
            if _not_called(sub):
                stack += [(child + (c, ), m) for c, m in sub.named_children()]
            elif '.'.join((name, ) + child) in frozen:
                names.append(child)
        if names:
            out[name] = names
    return out


def _hook_inference_mode(root: nn.Module) -> int:
    """Give every module of a frozen subtree its :func:`_keep_eval` pre-hook, once."""
    added = 0
    for name, names in getattr(root, HOOKED_ATTR).items():
        try:
            module = root.get_submodule(name)
        except AttributeError:  # removed since it was frozen: nothing to run in eval mode
            continue
        have = getattr(module, EVAL_NAMES_ATTR, None)
        if have is None:
            setattr(module, EVAL_NAMES_ATTR, tuple(names))
            module.register_forward_pre_hook(_keep_eval)
            added += 1
        elif not set(names) <= set(have):  # also hooked for a frozen spec around this one
            setattr(module, EVAL_NAMES_ATTR, tuple(dict.fromkeys(have + tuple(names))))
    return added


def keep_inference_hooks(model: nn.Module) -> int:
    """Hook the modules swapped into frozen modules since they were frozen; return how many.

    ``revert_sync_batchnorm``/``convert_sync_batchnorm`` (mmengine's ``wrap_model``) replace
    norm layers by new objects without the pre-hook. The hook of the module that holds one
    covers it whenever that module's forward runs; this gives it a hook of its own, so it is
    covered even when it is called directly. ``FrozenRunner`` calls it after wrapping the model.
    """
    return sum(_hook_inference_mode(resolve_module(model, path)) for path in frozen_specs(model))


@dataclass
class FreezeReport:
    """What :func:`freeze_module` did, for logs and checks."""
    path: str
    module_type: str
    frozen_params: int
    trainable_params: int
    norm_layers: int
    trainable_modules: List[str]
    kept_without_grad: int = 0

    def __str__(self) -> str:
        extra = (f', kept trainable: {self.trainable_modules} '
                 f'({self.trainable_params:,} params)' if self.trainable_modules else '')
        if self.kept_without_grad:
            extra += (f'; {self.kept_without_grad:,} params inside them keep '
                      'requires_grad=False as the model set it')
        return (f'froze {self.path or "<model>"} ({self.module_type}): '
                f'{self.frozen_params:,} params, {self.norm_layers} norm layers in eval mode'
                f'{extra}')


def is_norm(module: nn.Module) -> bool:
    """True for any normalization layer (BN/SyncBN/GN/LN/IN, FrozenBN, their subclasses)."""
    from torch.nn.modules.batchnorm import _NormBase
    if isinstance(module, (_NormBase, nn.GroupNorm, nn.LayerNorm, nn.LocalResponseNorm)):
        return True
    # torchvision's FrozenBatchNorm2d and mmcv/mmpretrain norms that do not subclass torch's.
    return 'Norm' in type(module).__name__ and not list(module.children())


def freeze_module(model: nn.Module, spec: FreezeSpec) -> FreezeReport:
    """Freeze ``model``'s sub-module at ``spec.path`` in place (idempotent).

    Raises:
        KeyError: ``spec.path`` does not exist.
        ValueError: the module is already frozen with another spec, or reduced precision was
            asked for a module with trainable parts.
    """
    root = resolve_module(model, spec.path)
    old = getattr(root, SPEC_ATTR, None)
    if old is not None and old != spec:
        raise ValueError(f'mmfrozen: {spec.path!r} is already frozen with {old}; '
                         f'cannot freeze it again with {spec}. Use one freeze hook per module.')
    keep = trainable_submodules(root, spec)
    if spec.trainable and not keep:
        raise KeyError(f'mmfrozen: no sub-module of {spec.path or "the model"!r} matches the '
                       f'trainable patterns {list(spec.trainable)}. Module names look like: '
                       f'{[n for n, _ in root.named_modules()][1:8]}')
    if keep and spec.precision != 'fp32':
        raise ValueError(
            f'mmfrozen: precision={spec.precision!r} runs the whole frozen forward under '
            f'autocast, but {spec.path!r} has trainable parts {sorted(keep)}. Use fp32 there.')

    kept = list(keep)
    if old is None:
        # Kept parts keep the requires_grad the model gave them (e.g. norm_cfg with
        # requires_grad=False in DETR-style configs); recorded for the hook's checks.
        setattr(root, KEPT_GRAD_ATTR, {n: p.requires_grad for n, p in root.named_parameters()
                                       if _in_any(n, kept)})
    frozen = trainable = kept_without_grad = 0
    for name, param in root.named_parameters():
        if _in_any(name, kept):
            if param.requires_grad:
                trainable += param.numel()
            else:
                kept_without_grad += param.numel()
        else:
            param.requires_grad_(False)
            frozen += param.numel()
    # Inference mode for every sub-module outside the kept parts that holds none of them (norm
    # layers, dropout, drop-path, whole frozen blocks) and for those that hold one but declare
    # their own computation frozen (an attention block around a LoRA update). Other holders
    # and the kept parts follow model.train()/eval(): a head or detector may branch on
    # self.training for the part that trains.
    eval_names = [n for n, m in root.named_modules() if not _in_any(n, kept) and (
        not _holds_any(n, kept) or getattr(m, FROZEN_FORWARD_ATTR, False))]
    eval_modules = [root.get_submodule(n) for n in eval_names]
    for m in eval_modules:
        m.training = False
    if old is None:
        setattr(root, HOOKED_ATTR, _eval_names_per_module(root, eval_names, kept))
        _hook_inference_mode(root)
        if spec.precision != 'fp32' or spec.channels_last:
            if spec.channels_last:
                root.to(memory_format=torch.channels_last)
            root.forward = _ReducedPrecisionForward(root.forward, _PRECISIONS[spec.precision],
                                                    spec.channels_last)
        setattr(root, SPEC_ATTR, spec)
    return FreezeReport(
        path=spec.path,
        module_type=type(root).__name__,
        frozen_params=frozen,
        trainable_params=trainable,
        norm_layers=sum(is_norm(m) for m in eval_modules),
        trainable_modules=sorted(keep),
        kept_without_grad=kept_without_grad)


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside a DDP/mmengine model wrapper, or the model itself."""
    from mmengine.model import is_model_wrapper
    return model.module if is_model_wrapper(model) else model


def optimizers(optim_wrapper: Any) -> List[torch.optim.Optimizer]:
    """The torch optimizers inside an mmengine ``OptimWrapper`` or ``OptimWrapperDict``."""
    from mmengine.optim import OptimWrapperDict
    if optim_wrapper is None or isinstance(optim_wrapper, dict):
        return []
    if isinstance(optim_wrapper, OptimWrapperDict):
        return [w.optimizer for w in optim_wrapper.values()]
    return [optim_wrapper.optimizer]


def frozen_specs(model: nn.Module) -> Dict[str, FreezeSpec]:
    """The specs of all modules of ``model`` frozen by :func:`freeze_module`, by path."""
    return {
        name: getattr(m, SPEC_ATTR)
        for name, m in model.named_modules() if getattr(m, SPEC_ATTR, None) is not None
    }


def frozen_parameters(model: nn.Module) -> Dict[str, nn.Parameter]:
    """All parameters of ``model`` that are frozen by mmfrozen, by full name."""
    out = {}
    for path, spec in frozen_specs(model).items():
        root = resolve_module(model, path)
        params = dict(root.named_parameters())
        prefix = f'{path}.' if path else ''
        for name, tensor in frozen_tensors(root, spec):
            if name in params:
                out[prefix + name] = params[name]
    return out


def prune_optimizer(optimizer: torch.optim.Optimizer, params: Sequence[nn.Parameter]) -> int:
    """Remove ``params`` from ``optimizer``'s param groups and state; return how many.

    Groups left empty are dropped, so no weight decay, momentum or lr multiplier is ever
    computed for a frozen parameter.
    """
    ids = {id(p) for p in params}
    removed = 0
    groups = []
    for group in optimizer.param_groups:
        kept = [p for p in group['params'] if id(p) not in ids]
        removed += len(group['params']) - len(kept)
        group['params'] = kept
        if kept:
            groups.append(group)
    optimizer.param_groups[:] = groups
    for p in [p for p in optimizer.state if id(p) in ids]:
        del optimizer.state[p]
    return removed


def optimizer_holds(optimizer: torch.optim.Optimizer,
                    params: Dict[str, nn.Parameter]) -> List[str]:
    """Names of ``params`` that ``optimizer`` still has in a param group or in its state."""
    by_id = {id(p): n for n, p in params.items()}
    names = [by_id[id(p)] for g in optimizer.param_groups for p in g['params'] if id(p) in by_id]
    names += [by_id[id(p)] for p in optimizer.state if id(p) in by_id]
    return sorted(set(names))


def tensor_digest(tensor: torch.Tensor, dtype: Optional[torch.dtype] = None) -> str:
    """Digest of a tensor's dtype, shape and bytes (any device, any dtype).

    With ``dtype``, a floating-point tensor is digested as cast to it: the value a model of that
    dtype holds after loading it (``load_state_dict`` copies an fp16 checkpoint tensor into an
    fp32 parameter exactly).
    """
    t = tensor.detach()
    if dtype is not None and t.is_floating_point() and dtype.is_floating_point:
        t = t.to(dtype)
    h = hashlib.blake2b(digest_size=12)
    h.update(f'{t.dtype}{tuple(t.shape)}'.encode())
    if t.numel():
        h.update(t.cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


class FrozenModuleChanged(RuntimeError):
    """A frozen tensor changed: something trained, or wrote into, a frozen module."""


_TRAINED_IN_RUN = ('Something trained or overwrote a frozen module (a second optimizer, a hook '
                   'that loads weights, or code that sets requires_grad=True); the run was '
                   'stopped so no checkpoint with a changed backbone is written.')
#: The cause named when a checkpoint's frozen weights differ from the fingerprints it records.
EDITED_CHECKPOINT = ('The checkpoint\'s weights were changed after it was written (edited, '
                     'converted or merged with another checkpoint): its frozen module is not '
                     'the one that was trained with. Use the checkpoint as it was written.')


#: Meta key under which a checkpoint records the fingerprints of its frozen modules, by path.
FINGERPRINTS_KEY = 'mmfrozen_fingerprints'
#: The half-precision dtypes a fingerprint also records digests in: a copy of a checkpoint cast
#: to one of them (as released "slim" checkpoints are) is then verified exactly.
HALF_DTYPES = (torch.float16, torch.bfloat16)
#: dtype -> the name a fingerprint's ``half`` digests are keyed by (``'float16'``).
_HALF_NAMES = {d: str(d).replace('torch.', '') for d in HALF_DTYPES}


@dataclass
class Fingerprint:
    """Per-tensor digests of the frozen parameters and buffers of one frozen module.

    ``trainable`` records the ``trainable`` patterns of the spec it was taken with (None for
    fingerprints saved without it): another spec covers other tensors, which is not a change.
    ``half`` holds, per dtype name of :data:`HALF_DTYPES`, the digests of the floating-point
    tensors cast to that dtype (None for fingerprints taken without them, as before mmfrozen
    recorded them).
    """
    path: str
    digests: Dict[str, str]
    trainable: Optional[Tuple[str, ...]] = None
    half: Optional[Dict[str, Dict[str, str]]] = None

    @classmethod
    def of_tensors(cls, path: str, tensors: Dict[str, torch.Tensor],
                   trainable: Optional[Tuple[str, ...]], half: bool = True) -> 'Fingerprint':
        """Fingerprint ``tensors`` (names relative to the module at ``path``); with ``half``, the
        digests of their half-precision casts too."""
        halves = None
        if half:
            halves = {name: {n: tensor_digest(t, d) for n, t in tensors.items() if t.is_floating_point()}
                      for d, name in _HALF_NAMES.items()}
        return cls(path, {n: tensor_digest(t) for n, t in tensors.items()},
                   None if trainable is None else tuple(trainable), halves)

    @classmethod
    def of(cls, model: nn.Module, path: str, half: bool = True) -> 'Fingerprint':
        """Fingerprint the frozen tensors of ``model``'s module at ``path`` (with ``half``, also
        in :data:`HALF_DTYPES`: done once per run, for the checkpoints it writes)."""
        root = resolve_module(model, path)
        return cls.of_tensors(path, dict(frozen_tensors(root)),
                              tuple(getattr(root, SPEC_ATTR).trainable), half)

    def coverage_note(self, other: 'Fingerprint') -> Optional[str]:
        """Why ``other`` covers other tensors than this fingerprint, or None if it does not."""
        only_here = [n for n in self.digests if n not in other.digests]
        only_there = [n for n in other.digests if n not in self.digests]
        if not only_here and not only_there:
            return None
        where = self.path or 'the model'
        if self.trainable is not None and other.trainable != self.trainable:
            why = (f'the freeze spec of {where!r} (trainable={list(other.trainable or ())}) '
                   "differs from the one the checkpoint's fingerprint was taken with "
                   f'(trainable={list(self.trainable)})')
        else:
            why = (f"the frozen tensors of {where!r} are not those the checkpoint's "
                   'fingerprint covers')
        examples = ''.join(
            f'; {len(names)} only {side} (e.g. {names[0]!r})'
            for names, side in ((only_here, 'in the fingerprint'), (only_there, 'frozen now'))
            if names)
        both = len(self.digests) - len(only_here)
        return (f'mmfrozen: {why}: the fingerprint covers {len(self.digests)} tensors, this run '
                f'freezes {len(other.digests)}{examples}. Only the {both} tensors both cover '
                'are compared; a tensor only one side covers is not a change.')

    def _half_copies(self, root: nn.Module, names: List[str]) -> Tuple[Dict[str, str], List[str]]:
        """Which of the tensors ``names`` of ``root`` hold exactly the half-precision rounding
        of the fingerprinted ones: ``({name: dtype name}, names of dtypes all of the others
        hold exactly, so that only the digests this fingerprint lacks could tell)``.

        Raises:
            FrozenModuleChanged: a rounded tensor holds inf or NaN: the cast overflowed (fp16
                holds magnitudes up to 65504), so the copy does not hold the weights it rounds.
        """
        tensors = dict(frozen_tensors(root))
        rounded: Dict[str, str] = {}
        for name in names:
            t = tensors[name].detach()
            for dtype, key in _HALF_NAMES.items():
                digest = (self.half or {}).get(key, {}).get(name)
                if (digest is not None and t.is_floating_point()
                        and torch.equal(t, t.to(dtype).to(t.dtype))
                        and tensor_digest(t, dtype) == digest):
                    rounded[name] = key
                    break
            bad = int((~torch.isfinite(t)).sum()) if name in rounded else 0
            if bad:
                full = f'{self.path}.{name}' if self.path else name
                raise FrozenModuleChanged(
                    f'mmfrozen: frozen tensor {full!r} of the half-precision ({rounded[name]}) '
                    f'copy holds {bad} inf/NaN values: {rounded[name]} holds magnitudes up to '
                    f'{torch.finfo(getattr(torch, rounded[name])).max:g} and larger weights '
                    'overflow to inf in the cast; the model would run with them. Make the copy '
                    'in bfloat16 (the range of float32) or keep this tensor in float32, or use '
                    'the full-precision checkpoint.')
        rest = [tensors[n].detach() for n in names if n not in rounded]
        exact = [name for d, name in _HALF_NAMES.items()
                 if rest and all(t.is_floating_point() and torch.equal(t, t.to(d).to(t.dtype))
                                 for t in rest)]
        return rounded, exact

    def check(self, model: nn.Module, when: str, cause: str = _TRAINED_IN_RUN,
              other_coverage: bool = False, half_copy: bool = False,
              resumed: bool = False) -> Optional[str]:
        """Raise :class:`FrozenModuleChanged` if ``model`` no longer matches this fingerprint.

        Args:
            model: The model holding the frozen module.
            when: For the message, e.g. ``'after epoch 3'``.
            cause: For the message: what probably changed the tensor.
            other_coverage: Accept that the module now freezes other tensors than the
                fingerprint covers (a checkpoint's fingerprint under another freeze spec) and
                compare those both cover; otherwise that is an error too.
            half_copy: The model was just loaded from a checkpoint that may be a half-precision
                copy of the one that recorded this fingerprint: accept a tensor that holds
                exactly the fp16 or bf16 rounding of the fingerprinted one (its half digest
                matches), and say so in the returned note.
            resumed: With ``half_copy``: the checkpoint was resumed, so the run that wrote it
                continues; a half-precision copy is refused (its frozen module would switch to
                the rounded values mid-run).

        Returns:
            The :meth:`coverage_note` when the covered tensors differ and, for a half-precision
            copy, what it holds; else None.
        """
        now = Fingerprint.of(model, self.path, half=False)
        note = self.coverage_note(now)
        where = self.path or 'the model'
        if note is not None and not other_coverage:
            raise FrozenModuleChanged(f'{note} ({when}): part of {where!r} was replaced after '
                                      'it was fingerprinted. ' + cause)
        common = [n for n in self.digests if n in now.digests]
        changed = [n for n in common if now.digests[n] != self.digests[n]]
        rounded: Dict[str, str] = {}
        exact: List[str] = []
        if changed and half_copy:
            rounded, exact = self._half_copies(resolve_module(model, self.path), changed)
            changed = [n for n in changed if n not in rounded]
        if rounded and resumed:
            full = f'{self.path}.{next(iter(rounded))}' if self.path else next(iter(rounded))
            raise FrozenModuleChanged(
                f'mmfrozen: the resumed checkpoint is a half-precision '
                f'({", ".join(sorted(set(rounded.values())))}) copy: {len(rounded)} of '
                f'{len(common)} frozen tensors of {where!r} (first: {full!r}) hold the rounding '
                'of the weights the run was trained with. Resuming continues that run, whose '
                'frozen module would switch to the rounded values mid-run (and its next '
                'checkpoints would fingerprint them). Resume from the full-precision checkpoint; '
                'a half-precision copy can only start a new run: load_from=<copy> with '
                'resume=False.')
        if changed:
            full = f'{self.path}.{changed[0]}' if self.path else changed[0]
            hint = ''
            if exact and not self.half:
                hint = (f' All {len(changed)} hold exactly {" or ".join(exact)} values: this looks '
                        'like a half-precision copy of a checkpoint whose fingerprints were '
                        'written without half-precision digests (an older mmfrozen), which '
                        'cannot be verified. Use the full-precision checkpoint; or, if you '
                        'trust the copy, remove its fingerprints (the frozen weights are then '
                        'checked against the copy only, not against the weights it was made '
                        'from): ckpt = torch.load(path, weights_only=False); del '
                        f"ckpt['meta']['{FINGERPRINTS_KEY}']; torch.save(ckpt, path).")
            raise FrozenModuleChanged(
                f'mmfrozen: frozen tensor {full!r} changed ({when}); {len(changed)} of '
                f'{len(common)} frozen tensors of {where!r} differ from the fingerprint taken '
                f'after the pretrained weights were loaded. {cause}{hint}' +
                (f' Note: {note}' if note else ''))
        if rounded:
            kinds = sorted(set(rounded.values()))
            half_note = (f'mmfrozen: the checkpoint is a half-precision ({", ".join(kinds)}) copy: '
                         f'{len(rounded)} of {len(common)} frozen tensors of {where!r} hold '
                         'exactly the rounding of the weights its fingerprint was taken on '
                         '(verified with its half-precision digests); the frozen module keeps '
                         'those rounded values.')
            note = half_note + (f' {note}' if note else '')
        return note

    def to_dict(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {'path': self.path, 'digests': dict(self.digests)}
        if self.trainable is not None:
            d['trainable'] = list(self.trainable)
        if self.half is not None:
            d['half'] = {k: dict(v) for k, v in self.half.items()}
        return d

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> 'Fingerprint':
        trainable = d.get('trainable')
        half = d.get('half')
        return cls(d['path'], dict(d['digests']),
                   None if trainable is None else tuple(trainable),
                   None if half is None else {k: dict(v) for k, v in half.items()})


def frozen_state(model: nn.Module) -> Dict[str, torch.Tensor]:
    """All parameters and buffers of ``model`` frozen by mmfrozen, by full state-dict name."""
    out = {}
    for path, spec in frozen_specs(model).items():
        prefix = f'{path}.' if path else ''
        out.update({prefix + n: t for n, t in frozen_tensors(resolve_module(model, path), spec)})
    return out


def share_frozen_tensors(model: nn.Module,
                         copy: nn.Module) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Make the frozen tensors of ``copy``, a copy of ``model``, the very tensors of ``model``.

    A frozen tensor never changes, so a copy of the model (an averaged model for EMA) can hold
    the model's own parameter and buffer objects instead of copies of them. Only a tensor that
    ``copy`` holds under the same name with the same dtype, device, shape and values is shared;
    ``copy``'s own tensor is then dropped (its memory is freed once nothing else holds it).

    Returns:
        ``(shared, kept)``: the tensors ``copy`` now shares with ``model``, by name, and the names
        of the frozen tensors it holds otherwise (another device or dtype, other values), which
        keep their own copy.
    """
    theirs = copy.state_dict(keep_vars=True)
    shared: Dict[str, torch.Tensor] = {}
    kept: List[str] = []
    for name, tensor in frozen_state(model).items():
        other = theirs.get(name)
        if other is tensor:
            shared[name] = tensor
            continue
        if (other is None or other.dtype != tensor.dtype or other.device != tensor.device
                or other.shape != tensor.shape or not torch.equal(other, tensor)):
            kept.append(name)
            continue
        owner_path, _, leaf = name.rpartition('.')
        owner = copy.get_submodule(owner_path)
        slots = owner._parameters if leaf in owner._parameters else owner._buffers
        slots[leaf] = tensor
        shared[name] = tensor
    return shared, kept
