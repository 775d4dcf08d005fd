"""Freezing a part of a model: the one place where "frozen" is defined in mmfrozen.

Implements the backbone freezing of "Proper Reuse of Image Classification Features Improves
Object Detection" (Vasconcelos, Birodkar, Dumoulin, CVPR 2022). In the official code the
switch sets the Keras backbone ``trainable = False``; in PyTorch terms a frozen module here:

* has ``requires_grad=False`` on every parameter, so autograd records nothing for it when its
  input needs no gradient (no graph, no stored activations), and it is never handed to an
  optimizer (:func:`prune_optimizer`);
* runs every sub-module that holds no trainable parameter in inference mode (batch-norm
  statistics, dropout, drop-path), no matter how often ``model.train()`` is called;
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


def _keep_eval(module: nn.Module, args) -> None:
    """Forward pre-hook of a frozen module: its frozen parts always run in inference mode.

    Sub-modules are looked up by name at every call, so modules swapped in after freezing
    (``convert_sync_batchnorm`` when the model is wrapped for DDP) are covered too.
    """
    for name in module._mmfrozen_eval_names:
        module.get_submodule(name).training = False


@dataclass
class FreezeReport:
    """What :func:`freeze_module` did, for logs and checks."""
    path: str
    module_type: str
    frozen_params: int
    trainable_params: int
    norm_layers: int
    trainable_modules: List[str]

    def __str__(self) -> str:
        extra = (f', kept trainable: {self.trainable_modules} '
                 f'({self.trainable_params:,} params)' if self.trainable_modules else '')
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

    frozen = trainable = 0
    for name, param in root.named_parameters():
        if _in_any(name, list(keep)):
            param.requires_grad_(True)
            trainable += param.numel()
        else:
            param.requires_grad_(False)
            frozen += param.numel()
    # Inference mode for every sub-module outside the trainable parts that has no trainable
    # parameter below it (norm layers, dropout, drop-path, whole frozen blocks).
    eval_names = [
        n for n, m in root.named_modules()
        if not _in_any(n, list(keep)) and not any(p.requires_grad for p in m.parameters())
    ]
    eval_modules = [root.get_submodule(n) for n in eval_names]
    for m in eval_modules:
        m.training = False
    if old is None:
        root._mmfrozen_eval_names = eval_names
        root.register_forward_pre_hook(_keep_eval)
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
        trainable_modules=sorted(keep))


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


def tensor_digest(tensor: torch.Tensor) -> str:
    """Digest of a tensor's dtype, shape and bytes (any device, any dtype)."""
    t = tensor.detach()
    h = hashlib.blake2b(digest_size=12)
    h.update(f'{t.dtype}{tuple(t.shape)}'.encode())
    if t.numel():
        h.update(t.cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


class FrozenModuleChanged(RuntimeError):
    """A frozen tensor changed: something trained, or wrote into, a frozen module."""


@dataclass
class Fingerprint:
    """Per-tensor digests of the frozen parameters and buffers of one frozen module."""
    path: str
    digests: Dict[str, str]

    @classmethod
    def of(cls, model: nn.Module, path: str) -> 'Fingerprint':
        """Fingerprint the frozen tensors of ``model``'s module at ``path``."""
        root = resolve_module(model, path)
        return cls(path, {n: tensor_digest(t) for n, t in frozen_tensors(root)})

    def first_difference(self, other: 'Fingerprint') -> Optional[str]:
        """Name of the first tensor that differs (or is missing on one side), else None."""
        for name in list(self.digests) + [n for n in other.digests if n not in self.digests]:
            if self.digests.get(name) != other.digests.get(name):
                return name
        return None

    def check(self, model: nn.Module, when: str) -> None:
        """Raise :class:`FrozenModuleChanged` if ``model`` no longer matches this fingerprint."""
        now = Fingerprint.of(model, self.path)
        changed = self.first_difference(now)
        if changed is not None:
            full = f'{self.path}.{changed}' if self.path else changed
            n = sum(now.digests.get(k) != v for k, v in self.digests.items())
            raise FrozenModuleChanged(
                f'mmfrozen: frozen tensor {full!r} changed ({when}); {n} of '
                f'{len(self.digests)} frozen tensors of {self.path or "the model"!r} differ from '
                'the fingerprint taken after the pretrained weights were loaded. Something '
                'trained or overwrote a frozen module (a second optimizer, a hook that loads '
                'weights, or code that sets requires_grad=True); the run was stopped so no '
                'checkpoint with a changed backbone is written.')

    def to_dict(self) -> Dict[str, Any]:
        return {'path': self.path, 'digests': dict(self.digests)}

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> 'Fingerprint':
        return cls(d['path'], dict(d['digests']))
