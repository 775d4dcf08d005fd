"""What a frozen module is: the :class:`FreezeSpec`, and reading back what a model has frozen.

The spec names a module by its attribute path and the parts of it that stay trainable;
:func:`~mmfrozen.freezing.freeze.freeze_module` records it on the module it froze, and the
functions here find those modules, their frozen tensors and parameters again.
"""
import fnmatch
from dataclasses import dataclass
from typing import Dict, Iterator, Optional, Sequence, Tuple

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


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside a DDP/mmengine model wrapper, or the model itself."""
    from mmengine.model import is_model_wrapper
    return model.module if is_model_wrapper(model) else model


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


def frozen_state(model: nn.Module) -> Dict[str, torch.Tensor]:
    """All parameters and buffers of ``model`` frozen by mmfrozen, by full state-dict name."""
    out = {}
    for path, spec in frozen_specs(model).items():
        prefix = f'{path}.' if path else ''
        out.update({prefix + n: t for n, t in frozen_tensors(resolve_module(model, path), spec)})
    return out
