"""A config's model built frozen, as a training run builds it.

:class:`~mmfrozen.engine.runner.FrozenRunner` builds every training model through
:func:`build_frozen_model`; the parameter counts, the results table, the training-cost
benchmark and the tests build theirs through it too, so what they count or measure is the model
a run trains; :func:`build_frozen_optim_wrapper` gives them its optimizer.
"""
import copy
from typing import Any, Mapping, Optional, Sequence, Union

from mmengine.logging import print_log
from mmengine.optim import build_optim_wrapper
from mmengine.registry import MODELS, init_default_scope
from torch import nn

from ..config.freeze import freeze_hooks
from ..freezing.freeze import freeze_module
from ..freezing.optimizer import optimizers, prune_optimizer
from ..freezing.spec import frozen_parameters
from .pretrained import assert_pretrained, explain_failed_self_loading


def build_frozen_model(model: Union[nn.Module, dict],
                       custom_hooks: Optional[Sequence[Any]] = None,
                       load_from: Optional[str] = None,
                       resume: bool = False,
                       check_pretrained: bool = True,
                       default_scope: Optional[str] = None,
                       model_cfg: Optional[dict] = None) -> nn.Module:
    """Build ``model`` and freeze it as the freeze hooks in ``custom_hooks`` ask.

    This is what :class:`~mmfrozen.engine.runner.FrozenRunner` does when it builds the model,
    before any DDP wrapping and before the optimizer exists. No weights are loaded here: a run
    loads them later (``init_weights``, ``load_from``, resume).

    Args:
        model: A built model, or its config dict (built with mmengine's ``MODELS`` under the
            current default scope, as mmengine's Runner builds it).
        custom_hooks: The run's ``custom_hooks``; entries that are not freeze hooks are ignored.
        load_from: The run's ``load_from``, for the pretrained-weights check.
        resume: Whether the run resumes, for the pretrained-weights check.
        check_pretrained: Refuse a frozen module that nothing loads pretrained weights into
            (unless its hook sets ``allow_random_init``) and log what was frozen, as a training
            run does. False for tools that build a model without its weights (parameter counts,
            the training-cost benchmark, smoke steps).
        default_scope: Set this default scope first (a config's ``default_scope``; a Runner has
            already set it).
        model_cfg: The config a built ``model`` was built from, for the pretrained-weights
            check (a module built with ``pretrained=True`` loads itself); ``model`` when it is
            a dict.

    Raises:
        RuntimeError: a module one freeze hook keeps trainable is frozen by another (at, inside
            or around it), naming both hooks; or building ``model`` failed while a module of it
            loaded its own weights (``pretrained=True`` offline), naming the module and the
            fix (:func:`~mmfrozen.engine.pretrained.explain_failed_self_loading`).
        mmfrozen.engine.pretrained.RandomInitFrozenError: with ``check_pretrained``, a module
            would stay frozen at its random initialisation.
    """
    if default_scope is not None:
        init_default_scope(default_scope)
    if isinstance(model, dict):
        model_cfg = model
        with explain_failed_self_loading(model_cfg):
            model = MODELS.build(model)
    hooks = freeze_hooks(custom_hooks)
    reports = [(hook, spec, freeze_module(model, spec)) for hook in hooks for spec in hook.specs]
    for hook, spec, _ in reports:  # a part one hook keeps trainable and another freezes
        conflict = hook.frozen_kept_part(hooks, model, spec)
        if conflict:
            raise RuntimeError(conflict)
    for hook, spec, report in reports if check_pretrained else []:
        if hook.allow_random_init:
            print_log(f'mmfrozen: {spec.path!r} may be frozen at a random initialisation '
                      '(allow_random_init=True)', logger='current', level=30)
        else:
            source = assert_pretrained(model, spec, load_from, resume, model_cfg)
            print_log(f'mmfrozen: weights of {spec.path!r} come from {source}', logger='current')
        print_log(f'mmfrozen: {report}', logger='current')
    return model


def prune_frozen(optim_wrapper: Any, frozen: Mapping[str, nn.Parameter]) -> int:
    """Remove the ``frozen`` parameters (``frozen_parameters(model)``) from the optimizer(s) of
    ``optim_wrapper``, as :class:`~mmfrozen.engine.runner.FrozenRunner` does after building it.
    Returns how many."""
    if not frozen:
        return 0
    params = list(frozen.values())
    return sum(prune_optimizer(opt, params) for opt in optimizers(optim_wrapper))


def build_frozen_optim_wrapper(model: nn.Module, optim_wrapper_cfg: dict) -> Any:
    """The optimizer wrapper a training run gives a model built by :func:`build_frozen_model`:
    mmengine's ``build_optim_wrapper`` on (a copy of) ``optim_wrapper_cfg``, then
    :func:`prune_frozen`."""
    optim_wrapper = build_optim_wrapper(model, copy.deepcopy(optim_wrapper_cfg))
    prune_frozen(optim_wrapper, frozen_parameters(model))
    return optim_wrapper
