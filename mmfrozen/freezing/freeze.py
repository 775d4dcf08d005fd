"""Freezing a module in place: no gradients, inference mode for its frozen parts, and the
reduced-precision forward; sharing the frozen tensors with a copy of the model."""
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

from .spec import (FROZEN_FORWARD_ATTR, KEPT_GRAD_ATTR, SPEC_ATTR, _PRECISIONS, FreezeSpec,
                   _holds_any, _in_any, frozen_specs, frozen_state, resolve_module,
                   trainable_submodules)


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
