"""LoRA: trainable low-rank updates of the linear layers of a frozen backbone.

Low-rank adaptation (Hu et al., "LoRA: Low-Rank Adaptation of Large Language Models", ICLR
2022) keeps a pretrained weight ``W`` frozen and learns ``W + (alpha / r) * B A`` with
``A: in -> r`` and ``B: r -> out``. Here it adapts the attention (and optionally MLP) linears
of a frozen ViT to detection, the transformer counterpart of the residual adapters that
"Proper Reuse of Image Classification Features Improves Object Detection" (Vasconcelos,
Birodkar, Dumoulin, CVPR 2022) adds to a frozen ResNet.

Each adapted ``nn.Linear`` gets a ``lora`` sub-module and a forward hook that adds its output:
``y = linear(x) + linear.lora(x)``. The keys of the pretrained weights are unchanged, so the
backbone's checkpoint loads as before, and ``B`` starts at zero, so at step 0 the adapted
backbone computes exactly the plain one. :func:`merge_lora` folds the updates into the weights
for inference, leaving the plain architecture.
"""
import fnmatch
import inspect
import math
import numbers
import warnings
from collections import OrderedDict
from typing import Any, Dict, Iterator, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from mmdet.registry import MODELS

from ...checkpoint import LORA_DOWN as _LORA_DOWN
from ...checkpoint import LORA_UP as _LORA_UP
from ...checkpoint import model_state_dict, read_checkpoint, strip_prefix
from ...freezing.fingerprint import (EDITED_CHECKPOINT, FINGERPRINTS_KEY, Fingerprint,
                                     FrozenModuleChanged)
from ...freezing.spec import FROZEN_FORWARD_ATTR

#: Linear layers adapted by default: the attention's input and output projections of
#: mmpretrain's ViTs (``layers.<i>.attn.qkv``, ``layers.<i>.attn.proj``).
ATTENTION_TARGETS = ('*.attn.qkv', '*.attn.proj')
#: The MLP linears of mmpretrain's ViT (``ffn.layers``) and EVA-02 (``mlp.w12``/``w3``/...).
MLP_TARGETS = ('*.ffn.layers.*', '*.mlp.*')
_HOOK_ATTR = '_mmfrozen_lora_hook'
#: Meta key of a merged checkpoint: how many LoRA updates :func:`merge_lora_checkpoint` folded in.
LORA_MERGED_KEY = 'mmfrozen_lora_merged'


class _LowRankLinear(nn.Module):
    """``A`` or ``B`` of a LoRA update: a bias-free linear map with ``nn.Linear``'s state-dict
    key (``weight``) and initialisation, but not an ``nn.Linear``, so that a backbone's own
    initialiser that walks the linears of its blocks (mmpretrain's FFN sets the weight and bias
    of each) leaves the updates alone: ``B`` keeps its zero start, a LoRA checkpoint loaded
    through ``init_cfg`` keeps its values."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # nn.Linear's, the same draws

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight)

    def extra_repr(self) -> str:
        return f'in_features={self.in_features}, out_features={self.out_features}, bias=False'


@MODELS.register_module()
class LoRA(BaseModule):
    """The low-rank update ``x -> (alpha / rank) * B(A(dropout(x)))`` of one linear layer.

    The class sets ``mmfrozen_trainable = True``: inside a module frozen by
    :func:`mmfrozen.freezing.freeze_module` (``FreezeBackboneHook``) it stays trainable, and the
    integrity guard fingerprints the frozen weights only.

    Args:
        in_features: Input width of the adapted linear layer.
        out_features: Output width of the adapted linear layer.
        rank: Rank ``r`` of the update, a positive integer.
        alpha: Scale numerator, a positive number; the update is multiplied by
            ``alpha / rank``. Defaults to ``rank`` (scale 1).
        dropout: Dropout on the input of the low-rank branch. It is part of the trainable
            update: it follows ``train()``/``eval()`` also inside a frozen backbone, whose own
            dropout, attention dropout and drop-path run in inference mode.
        init_cfg: mmengine's initialisation config of the module; ``init_weights`` then
            draws ``A`` as ``nn.Linear`` draws its weight and zeroes ``B`` regardless (the
            update starts at 0), so it sets neither.
    """
    mmfrozen_trainable = True

    def __init__(self,
                 in_features: int,
                 out_features: int,
                 rank: int = 8,
                 alpha: Optional[float] = None,
                 dropout: float = 0.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        rank = _check_rank(rank)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f'LoRA: dropout must be in [0, 1), got {dropout}')
        self.rank = rank
        self.alpha = _check_alpha(alpha, rank)
        self.scale = self.alpha / rank
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.down = _LowRankLinear(in_features, rank)  # A
        self.up = _LowRankLinear(rank, out_features)  # B
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``A`` as ``nn.Linear`` initialises weights, ``B`` zero: the update starts at 0."""
        nn.init.kaiming_uniform_(self.down.weight, a=math.sqrt(5))
        nn.init.zeros_(self.up.weight)

    def init_weights(self) -> None:
        super().init_weights()
        self.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.up(self.down(self.dropout(x))) * self.scale

    def delta_weight(self) -> torch.Tensor:
        """The update as a dense ``(out_features, in_features)`` weight: ``scale * B @ A``."""
        return (self.up.weight @ self.down.weight) * self.scale

    def extra_repr(self) -> str:
        return f'rank={self.rank}, alpha={self.alpha:g}'


def _check_rank(rank: Any) -> int:
    """A LoRA rank is the width of the update's inner layer: a positive integer (any
    ``numbers.Integral``, e.g. ``np.int64`` from a sweep script), returned as an ``int``."""
    if isinstance(rank, bool) or not isinstance(rank, numbers.Integral) or rank < 1:
        raise ValueError(
            f'LoRA: rank must be a positive int (the number of rows of A, columns of B), got '
            f'{rank!r} ({type(rank).__name__}). Write it as a number in the config, e.g. '
            f'lora_cfg=dict(rank=8).')
    return int(rank)


def _check_alpha(alpha: Any, rank: int) -> float:
    """The scale numerator: ``rank`` when None, else a positive real number, as a float."""
    if alpha is None:
        return float(rank)
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not alpha > 0:
        raise ValueError(
            f'LoRA: alpha must be a positive number, got {alpha!r} ({type(alpha).__name__}): '
            'the update is scaled by alpha / rank, so with alpha <= 0 it is zero or reversed '
            'and B gets no gradient (alpha=0: the run trains nothing a frozen run does not). '
            'Leave it out (alpha = rank, scale 1) or write a positive number, e.g. '
            'lora_cfg=dict(rank=8, alpha=16).')
    return float(alpha)


def _add_lora_output(linear: nn.Linear, args, output: torch.Tensor) -> torch.Tensor:
    """Forward hook of an adapted linear layer: ``linear(x) + linear.lora(x)``."""
    return output + linear.lora(args[0])


def _matches(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pat) for pat in patterns)


def attach_lora(module: nn.Module,
                targets: Sequence[str] = ATTENTION_TARGETS,
                rank: int = 8,
                alpha: Optional[float] = None,
                dropout: float = 0.0) -> int:
    """Give every ``nn.Linear`` of ``module`` whose name matches ``targets`` a ``lora``.

    The updates live at ``<linear>.lora``: the keys of the existing weights are unchanged, so
    the pretrained checkpoint still loads into them. ``module`` and every module of it that
    holds an update (the adapted linears, their attention or MLP blocks) are marked
    ``mmfrozen_frozen_forward = True``: their own computation is the pretrained one, so inside a
    frozen module they run in inference mode (attention dropout off) while the updates train.

    Args:
        module: The backbone (any module with ``nn.Linear`` layers).
        targets: ``fnmatch`` patterns of linear-layer names relative to ``module``, e.g.
            :data:`ATTENTION_TARGETS` (default) or ``ATTENTION_TARGETS + MLP_TARGETS``.
        rank: Rank of every update.
        alpha: Scale numerator (default ``rank``).
        dropout: Dropout on the input of the low-rank branches.

    Returns:
        The number of adapted linear layers.

    Raises:
        ValueError: ``rank`` is not a positive int, ``alpha`` not a positive number, no linear
            layer matches ``targets`` (the message lists some that exist), or the module
            already has LoRA updates.

    Warns:
        UserWarning: ``rank`` is at least the smaller side of an adapted linear (the update
            can be of full rank), or the updates hold more parameters than the linears they
            adapt.
    """
    rank = _check_rank(rank)
    _check_alpha(alpha, rank)
    targets = (targets, ) if isinstance(targets, str) else tuple(targets)
    linears = [(n, m) for n, m in module.named_modules() if isinstance(m, nn.Linear)]
    if any(hasattr(m, 'lora') for _, m in linears):
        raise ValueError('attach_lora: the module already has LoRA updates')
    chosen = [(n, m) for n, m in linears if _matches(n, targets)]
    if not chosen:
        raise ValueError(f'attach_lora: no nn.Linear of {type(module).__name__} matches '
                         f'targets {list(targets)}. Its linear layers are named like '
                         f'{[n for n, _ in linears][:6]}.')
    size = sum(p.numel() for _, m in chosen for p in m.parameters(recurse=False))
    added = sum(rank * (m.in_features + m.out_features) for _, m in chosen)
    narrow = [(n, m) for n, m in chosen if rank >= min(m.in_features, m.out_features)]
    if narrow:
        name, linear = narrow[0]
        warnings.warn(
            f'attach_lora: rank={rank} is at least the smaller side of {len(narrow)} of the '
            f'{len(chosen)} adapted linears (e.g. {name}: {linear.in_features} -> '
            f'{linear.out_features}): such an update can change the whole weight (full rank) '
            f'and is larger than the linear it adapts ({added:,} LoRA parameters for the '
            f'{size:,} of the adapted linears); fine-tuning them trains fewer. A rank of 4-16 '
            'is usual.', stacklevel=2)
    elif added > size:
        warnings.warn(
            f'attach_lora: rank={rank} adds {added:,} LoRA parameters for the {size:,} of the '
            f'{len(chosen)} linears they adapt: the updates are larger than what they adapt, '
            'so fine-tuning those linears would train fewer parameters. A rank of 4-16 is '
            'usual.', stacklevel=2)
    for name, linear in chosen:
        linear.lora = LoRA(linear.in_features, linear.out_features, rank=rank, alpha=alpha,
                           dropout=dropout).to(linear.weight.device)
        setattr(linear, _HOOK_ATTR, linear.register_forward_hook(_add_lora_output))
        parts = name.split('.')
        for i in range(len(parts) + 1):  # module, the blocks around the linear, the linear
            setattr(module.get_submodule('.'.join(parts[:i])), FROZEN_FORWARD_ATTR, True)
    return len(chosen)


def lora_modules(module: nn.Module) -> Iterator[Tuple[str, nn.Linear]]:
    """``(name, linear)`` of every linear layer of ``module`` that carries a LoRA update."""
    return ((n, m) for n, m in module.named_modules()
            if isinstance(m, nn.Linear) and isinstance(getattr(m, 'lora', None), LoRA))


@torch.no_grad()
def merge_lora(module: nn.Module) -> int:
    """Fold every LoRA update of ``module`` into its linear weight and remove the update.

    ``W <- W + (alpha / r) B A``; the adapted layers become plain ``nn.Linear`` again (hook and
    ``lora`` sub-module removed), so the state dict has the keys of the plain backbone and a
    config without ``lora_cfg`` loads it. Outputs equal the unmerged ones up to float rounding.

    Returns:
        The number of merged layers.
    """
    merged = list(lora_modules(module))
    for _, linear in merged:
        delta = linear.lora.delta_weight().to(linear.weight.dtype)
        linear.weight.add_(delta)
        getattr(linear, _HOOK_ATTR).remove()
        delattr(linear, _HOOK_ATTR)
        del linear.lora
    return len(merged)


class LoRAMixin:
    """Gives an mmpretrain ViT backbone trainable LoRA updates (``lora_cfg``).

    Put it before the backbone class: ``class LoRAVisionTransformer(LoRAMixin,
    VisionTransformer)``. The updates are attached after the backbone is built; its
    checkpoint keys are unchanged.

    Args:
        lora_cfg: Keyword arguments of :func:`attach_lora` (``rank``, ``alpha``, ``dropout``,
            ``targets``); ``targets`` may also be ``'attn'`` (default, :data:`ATTENTION_TARGETS`)
            or ``'attn+mlp'`` (adds :data:`MLP_TARGETS`). Required (``dict()`` for the
            defaults), so that a config's mode can be read from it (``frozen-lora``).
        **kwargs: Arguments of the backbone class.
    """

    _TARGET_SETS = {'attn': ATTENTION_TARGETS, 'attn+mlp': ATTENTION_TARGETS + MLP_TARGETS}

    def __init__(self, *, lora_cfg: dict, **kwargs) -> None:
        super().__init__(**kwargs)
        cfg = dict(lora_cfg)
        targets = cfg.pop('targets', 'attn')
        if isinstance(targets, str):
            if targets not in self._TARGET_SETS:
                raise ValueError(f'lora_cfg.targets must be one of {sorted(self._TARGET_SETS)} '
                                 f'or a list of fnmatch patterns, got {targets!r}')
            targets = self._TARGET_SETS[targets]
        self.lora_cfg = dict(cfg, targets=tuple(targets))
        self.num_lora = attach_lora(self, **self.lora_cfg)

    def loras(self) -> Iterator[LoRA]:
        """All LoRA updates of the backbone."""
        return (m for m in self.modules() if isinstance(m, LoRA))


def _lora_settings(lora_cfg: dict) -> dict:
    """What a ``lora_cfg`` makes of the merged weights, defaults filled in: ``rank``, ``alpha``
    (the update is scaled by ``alpha / rank``) and the ``targets`` patterns (sorted: a layer is
    adapted when it matches any of them, in whatever order they are written)."""
    defaults = inspect.signature(attach_lora).parameters
    rank = lora_cfg.get('rank', defaults['rank'].default)
    alpha = lora_cfg.get('alpha', defaults['alpha'].default)
    targets = lora_cfg.get('targets', 'attn')
    if isinstance(targets, str):
        targets = LoRAMixin._TARGET_SETS.get(targets, (targets, ))
    return dict(rank=rank, alpha=float(rank if alpha is None else alpha),
                targets=tuple(sorted(set(targets))))


@torch.no_grad()
def merge_lora_state_dict(state_dict: Dict[str, torch.Tensor], rank: int,
                          alpha: Optional[float] = None) -> Tuple[Dict[str, torch.Tensor], int]:
    """:func:`merge_lora` on a state dict: every LoRA update (``<linear>.lora.down.weight`` = A,
    ``<linear>.lora.up.weight`` = B) folded into the weight of its linear, ``W + (alpha / rank)
    B A``, and its tensors removed; the other tensors as they are. No model is built.

    Args:
        state_dict: A model state dict holding LoRA updates of rank ``rank``.
        rank: The rank of the updates (``lora_cfg.rank``).
        alpha: Their scale numerator (``lora_cfg.alpha``; None: ``rank``).

    Returns:
        The merged state dict (the keys of the plain model, in their order) and the number of
        merged updates.

    Raises:
        ValueError: ``rank``/``alpha`` are not valid LoRA settings; an update is not of rank
            ``rank``, lacks A or B, or does not fit the weight of its linear.
    """
    rank = _check_rank(rank)
    scale = _check_alpha(alpha, rank) / rank  # as LoRA.scale
    state = OrderedDict(state_dict)
    linears = [k[:-len(_LORA_DOWN)] for k in state_dict if k.endswith(_LORA_DOWN)]
    for name in linears:
        down, up = state.pop(name + _LORA_DOWN), state.pop(name + _LORA_UP, None)
        weight = state.get(name + '.weight')
        if up is None or weight is None or tuple(weight.shape) != (up.shape[0], down.shape[1]):
            found = 'no B' if up is None else 'no weight' if weight is None else (
                f'a weight of shape {tuple(weight.shape)} for an update of '
                f'{tuple(up.shape[:1]) + tuple(down.shape[1:])}')
            raise ValueError(f'merge_lora: the LoRA update of {name} does not fit its linear '
                             f'layer ({found}): the state dict is not one of a LoRA model')
        if down.shape[0] != rank:
            raise ValueError(f'merge_lora: the LoRA update of {name} has rank {down.shape[0]}, '
                             f'not lora_cfg.rank={rank}: merge with the lora_cfg it was '
                             'trained with')
        state[name + '.weight'] = weight + ((up @ down) * scale).to(weight.dtype)
    left = [k for k in state if '.lora.' in k]
    if left:
        raise ValueError(f'merge_lora: {left[0]} belongs to no LoRA update (A and B): the state '
                         'dict is not one of a LoRA model')
    return state, len(linears)


def merge_lora_checkpoint(config: str, checkpoint: str, out: str) -> int:
    """Write ``checkpoint`` (a run of ``config``, a ``frozen-lora`` config) with every LoRA
    update folded into its linear weight (:func:`merge_lora_state_dict`).

    The result has the keys of the plain backbone: the config's ``frozen`` twin (same model,
    ``lora_cfg`` and the LoRA backbone type removed) evaluates it with ``tools/test.py`` and
    loads it as ``load_from``. It is written as the config's model (float32) holds the weights.
    The merge changes the frozen weights, so the fingerprints the run recorded
    (``meta['mmfrozen_fingerprints']``) are first checked against the checkpoint's frozen
    weights (as a run loading it would: a half-precision copy is verified with its
    half-precision digests), then replaced by fingerprints of the merged weights, taken on the
    same tensors: the frozen twin verifies the file as it was merged.

    Returns:
        The number of merged layers.

    Raises:
        ValueError: the checkpoint holds no LoRA update (not a frozen-lora run's, or already
            merged), or ``config``'s ``lora_cfg`` scales or places the updates otherwise than
            the config the checkpoint records (``meta['cfg']``) or than the checkpoint holds.
        FrozenModuleChanged: a frozen weight differs from the fingerprint the run recorded.
    """
    from mmengine.config import Config
    from mmengine.runner import save_checkpoint

    ckpt = read_checkpoint(checkpoint)
    meta = dict(ckpt.get('meta') or {}) if isinstance(ckpt, dict) else {}
    state = model_state_dict(ckpt)
    if meta.get(LORA_MERGED_KEY):
        raise ValueError(f'merge_lora_checkpoint: {checkpoint} is already merged (its '
                         f'{meta[LORA_MERGED_KEY]} LoRA updates were folded into the weights): '
                         'use it as it is with the frozen twin of the frozen-lora config')
    if not any('.lora.' in k for k in state):
        raise ValueError(f'merge_lora_checkpoint: {checkpoint} holds no LoRA update (no '
                         f'".lora." weights; keys look like {list(state)[:3]}): it is not a '
                         'checkpoint of a frozen-lora run; a frozen run\'s checkpoint needs no '
                         'merge')
    cfg = Config.fromfile(config)
    lora_cfg = cfg.model.get('backbone', {}).get('lora_cfg')
    if lora_cfg is None:
        raise ValueError(f'merge_lora_checkpoint: {config} has no model.backbone.lora_cfg: give '
                         f'the frozen-lora config {checkpoint} was trained with')
    ours = _lora_settings(lora_cfg)
    recorded = meta.get('cfg')
    if isinstance(recorded, str):
        trained = Config.fromstring(recorded, '.py').model.get('backbone', {}).get('lora_cfg')
        theirs = _lora_settings(trained or {})
        if trained is not None and ours != theirs:
            key = next(k for k in ours if ours[k] != theirs[k])
            raise ValueError(
                f'merge_lora_checkpoint: {config} sets lora_cfg.{key}={ours[key]!r}, but the run '
                f'that wrote {checkpoint} trained with {key}={theirs[key]!r} (its recorded '
                f'config, meta["cfg"]: lora_cfg={dict(trained)}); merging with it would fold '
                'other updates into the weights (W + alpha/rank BA). Merge with the config the '
                'run was trained with.')
    # the weights as the config's model holds them once loaded (float32: a half-precision copy
    # is verified and merged as a run loading it would)
    state = OrderedDict((k, v.float() if v.is_floating_point() else v) for k, v in state.items())
    saved = {path: Fingerprint.from_dict(d)
             for path, d in (meta.get(FINGERPRINTS_KEY) or {}).items()}
    for fp in saved.values():  # the frozen weights the run recorded, before they change
        prefix = f'{fp.path}.' if fp.path else ''
        missing = [prefix + n for n in fp.digests if prefix + n not in state]
        if missing:  # the fingerprint covers the persistent tensors: a run's file holds them all
            raise FrozenModuleChanged(
                f'mmfrozen: frozen tensor {missing[0]!r} is not in {checkpoint}, given to '
                f'merge_lora_checkpoint ({len(missing)} of the {len(fp.digests)} frozen tensors '
                f'the run fingerprinted are missing). {EDITED_CHECKPOINT}')
        fp.check_tensors({n: state[prefix + n] for n in fp.digests}, fp.trainable or (),
                         f'in {checkpoint}, given to merge_lora_checkpoint',
                         cause=EDITED_CHECKPOINT, other_coverage=True, half_copy=True)
    _check_lora_placement(state, ours['targets'], config, checkpoint)
    state, merged = merge_lora_state_dict(state, ours['rank'], ours['alpha'])
    meta[LORA_MERGED_KEY] = merged
    if saved:
        meta[FINGERPRINTS_KEY] = {path: _merged_fingerprint(fp, state)
                                  for path, fp in saved.items()}
    save_checkpoint({'meta': meta, 'state_dict': state}, out)
    return merged


def _check_lora_placement(state: Dict[str, torch.Tensor], targets: Tuple[str, ...], config: str,
                          checkpoint: str) -> None:
    """Refuse a detector state dict whose LoRA updates are not those ``targets`` place on its
    backbone (:func:`attach_lora`: one on every linear layer, a 2-d ``weight``, whose name
    matches): a run of ``config`` holds exactly those."""
    backbone = strip_prefix(state, 'backbone')
    adapted = {'backbone.' + k[:-len(_LORA_DOWN)] for k in backbone if k.endswith(_LORA_DOWN)}
    linears = [k[:-len('.weight')] for k, v in backbone.items()
               if k.endswith('.weight') and '.lora.' not in k and v.dim() == 2]
    placed = ['backbone.' + n for n in linears if _matches(n, targets)]
    lacking = [n for n in placed if n not in adapted]
    if lacking:
        raise ValueError(
            f'merge_lora_checkpoint: the lora_cfg.targets of {config} ({list(targets)}) place an '
            f'update on {lacking[0]}, but {checkpoint} holds none ({len(lacking)} of the '
            f'{len(placed)} layers they place lack their update): the checkpoint is not one of a '
            'run of this config (another config\'s targets, or LoRA weights removed from it). '
            'Merge a checkpoint of the run as written, with the config it was trained with.')
    others = sorted({k[:-len(_LORA_DOWN)] for k in state if k.endswith(_LORA_DOWN)}
                    - set(placed))
    if others:
        raise ValueError(
            f'merge_lora_checkpoint: {checkpoint} holds LoRA updates of {len(others)} layers '
            f'that lora_cfg.targets of {config} ({list(targets)}) do not place (first: '
            f'{others[0]}): it is not a checkpoint of a run of this config (its run adapted other '
            'layers, or the file was edited). Merge with the config it was trained with.')


def _merged_fingerprint(saved: Fingerprint, state: dict) -> dict:
    """``saved`` taken again on the merged weights: the same tensors (LoRA updates are not
    frozen, so none of them is in it), their merged values."""
    prefix = f'{saved.path}.' if saved.path else ''
    missing = [n for n in saved.digests if prefix + n not in state]
    if missing:
        raise ValueError(f'merge_lora_checkpoint: the merged weights have no {prefix + missing[0]} '
                         f'({len(missing)} fingerprinted frozen tensors missing), so the '
                         'fingerprint of its frozen module cannot be taken again')
    return Fingerprint.of_tensors(saved.path, {n: state[prefix + n] for n in saved.digests},
                                  saved.trainable).to_dict()
