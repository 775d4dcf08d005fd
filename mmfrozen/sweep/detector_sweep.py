"""``DetectorSweep``: several detectors trained at once on one frozen backbone.

"Proper Reuse of Image Classification Features Improves Object Detection" (Vasconcelos,
Birodkar, Dumoulin, CVPR 2022) compares necks and heads of different capacity on one frozen
ImageNet backbone (Table 3: FPN, NAS-FPN, NAS-FPN + Cascade on R101). A frozen backbone computes
the same features for every one of them, so a sweep needs the backbone's forward only once per
batch: each member's neck and heads then train on those features with their own losses and
their own optimizer parameter groups.
"""
import copy
import logging
import random
from collections import OrderedDict
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple, Union

import numpy as np
import torch
from mmdet.models.detectors.base import BaseDetector
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import ConfigDict
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper
from mmengine.structures import BaseDataElement
from torch import Tensor, nn

from .checkpoint import SWEEP_MEMBER_CFGS
from .config import is_inline, load_sweep_members, resolve_sweep_model
from .optim_wrapper import SweepOptimWrapper
from .optim_wrapper_constructor import USAGE

#: Field of a predicted data sample that holds each member's prediction, by member name.
MEMBER_PREDS = 'member_preds'


class _RngStreams:
    """One random-number stream per member (torch CPU and CUDA, numpy, Python ``random``).

    Samplers (RPN and RoI sampling) draw random numbers during the forward. Each member draws
    from a stream of its own that starts from the global state at the sweep's construction, as a
    detector built alone from the same seed does, so a member's draws do not depend on the
    other members; the global streams are left as they were.
    """

    def __init__(self, names) -> None:
        start = self._capture()
        self.states: Dict[str, dict] = {name: start for name in names}

    @staticmethod
    def _capture() -> dict:
        state = dict(torch=torch.get_rng_state(), numpy=np.random.get_state(),
                     random=random.getstate())
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state_all()
        return state

    @staticmethod
    def _restore(state: dict) -> None:
        torch.set_rng_state(state['torch'])
        np.random.set_state(state['numpy'])
        random.setstate(state['random'])
        if 'cuda' in state:
            torch.cuda.set_rng_state_all(state['cuda'])

    @contextmanager
    def use(self, name: str) -> Iterator[None]:
        """Run the block on ``name``'s stream; the global streams are restored afterwards."""
        outer = self._capture()
        own = self.states[name]
        if 'cuda' in outer and 'cuda' not in own:
            own = dict(own, cuda=outer['cuda'])  # CUDA first used after construction
        self._restore(own)
        try:
            yield
        finally:
            self.states[name] = self._capture()
            self._restore(outer)


@MODELS.register_module()
class DetectorSweep(BaseDetector):
    """Train several detectors on the features of one frozen backbone.

    The backbone is one module at ``model.backbone``, frozen by the usual
    ``FreezeBackboneHook`` + ``FrozenRunner`` (the sweep config inherits both from its members),
    so every guarantee of the freeze holds for it. Its forward runs once per batch; every member
    (a detector built from its own config, whose own backbone is replaced by the shared
    features) computes its losses on those features, logged as ``<member>/<loss>``. The total
    loss is the sum of the members' losses, so a member's gradients are those it would get
    alone; :class:`~mmfrozen.sweep.SweepOptimWrapperConstructor` gives each member
    the parameter groups its own config would build. Predictions hold every member's result in
    the field :data:`MEMBER_PREDS`, which
    :class:`~mmfrozen.sweep.SweepMetric` routes to one copy of the metric per
    member.

    Each member is built, initialised and run on a random-number stream of its own that starts
    where a detector built alone from the same seed starts, so on the same batches a member
    trains exactly as it would alone (``tests/test_sweep``).

    Args:
        members: ``{name: config path}`` or ``{name: dict(config=path, cfg_options={...})}``,
            checked by :func:`~mmfrozen.sweep.load_sweep_members`; or,
            after :func:`~mmfrozen.sweep.expand_sweep_config`, inline
            ``{name: dict(config=..., model=..., optim_wrapper=...)}``.
        backbone: The shared backbone; only with inline members (otherwise the members').
        data_preprocessor: The shared data preprocessor; only with inline members.
    """

    def __init__(self,
                 members: Mapping[str, Any],
                 backbone: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None) -> None:
        files = (isinstance(members, Mapping) and bool(members)
                 and not any(is_inline(e) for e in members.values()))
        loaded = load_sweep_members(members) if files else None
        backbone, data_preprocessor, inline = resolve_sweep_model(members, backbone,
                                                                  data_preprocessor, loaded)
        super().__init__(data_preprocessor=data_preprocessor)
        # the members' configs as the sweep trains them, for checkpoint_meta
        self._member_cfgs = OrderedDict((n, m.cfg) for n, m in (loaded or {}).items())
        self._member_cfg_texts: Optional[Dict[str, str]] = None
        self.member_configs: Dict[str, str] = OrderedDict(
            (name, entry.get('config', '')) for name, entry in inline.items())
        self.member_optim_wrappers: Dict[str, dict] = OrderedDict(
            (name, dict(entry.get('optim_wrapper') or {})) for name, entry in inline.items())
        self._streams = _RngStreams(inline)
        shared: Optional[nn.Module] = None
        built: Dict[str, nn.Module] = OrderedDict()
        for name, entry in inline.items():
            # Built whole, backbone included, so that the member's layers draw the same
            # random initial weights as the member built alone.
            cfg = ConfigDict(copy.deepcopy(dict(entry['model'], backbone=backbone,
                                                data_preprocessor=data_preprocessor)))
            with self._streams.use(name):
                member = MODELS.build(cfg)
            if not isinstance(member, BaseDetector) or not hasattr(member, 'backbone'):
                raise TypeError(f'sweep member {name!r} is a {type(member).__name__}, not an '
                                'mmdet detector with a backbone')
            shared = shared if shared is not None else member.backbone
            member.backbone = nn.Identity()  # its features come from the shared backbone
            built[name] = member
        self.backbone = shared
        self.members = nn.ModuleDict(built)
        self._diverged: set = set()  # members whose last loss was not finite

    def checkpoint_meta(self) -> Dict[str, Any]:
        """What every checkpoint of the sweep records besides mmengine's meta (``FrozenRunner``
        adds it): the text of each member's config as the sweep built it (the file with its
        ``cfg_options``), under :data:`SWEEP_MEMBER_CFGS`, so that the split writes the config
        the member was trained with even if its file changed or moved since. Empty for inline
        members (the sweep's own config holds them)."""
        if not self._member_cfgs:
            return {}
        if self._member_cfg_texts is None:  # formatting a config takes a while: once per run
            self._member_cfg_texts = OrderedDict(
                (n, cfg.pretty_text) for n, cfg in self._member_cfgs.items())
        return {SWEEP_MEMBER_CFGS: dict(self._member_cfg_texts)}

    # -- weights -------------------------------------------------------------------------------
    def init_weights(self) -> None:
        """Initialise the shared backbone, then each member on its own random stream."""
        if hasattr(self.backbone, 'init_weights'):
            self.backbone.init_weights()
        for name, member in self.members.items():
            with self._streams.use(name):
                member.init_weights()
        self._is_init = True

    # -- forward -------------------------------------------------------------------------------
    def extract_feat(self, batch_inputs: Tensor) -> Tuple[Tensor, ...]:
        """The shared backbone's features (what every member's neck receives)."""
        return self.backbone(batch_inputs)

    def _check_frozen(self) -> None:
        trainable = [n for n, p in self.backbone.named_parameters() if p.requires_grad]
        if trainable:
            raise RuntimeError(
                f'mmfrozen: DetectorSweep trains its members on one frozen backbone, but '
                f'{len(trainable)} parameters of model.backbone require gradients (first: '
                f'backbone.{trainable[0]}). Train a sweep with runner_type = \'FrozenRunner\' and '
                'the members\' FreezeBackboneHook in custom_hooks (a sweep config inherits both '
                'from its _base_, a member config).')

    def loss(self, batch_inputs: Tensor,
             batch_data_samples: List[DetDataSample]) -> Dict[str, Any]:
        """Every member's losses on the shared features, as ``<member>/<loss name>``."""
        self._check_frozen()
        feats = self.extract_feat(batch_inputs)
        losses: Dict[str, Any] = OrderedDict()
        for name, member in self.members.items():
            with self._streams.use(name):
                member_losses = member.loss(feats, batch_data_samples)
            losses.update((f'{name}/{key}', value) for key, value in member_losses.items())
        return losses

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, Tensor]:
        """mmengine's training step, refused before any update unless ``optim_wrapper`` holds
        each member's own parameter groups (a :class:`~mmfrozen.sweep.SweepOptimWrapper` of
        these members): any other trains every member at the sweep config's settings."""
        if not isinstance(optim_wrapper, SweepOptimWrapper):
            groups = getattr(getattr(optim_wrapper, 'optimizer', None), 'param_groups', [])
            lrs = [g.get('lr') for g in groups]
            raise TypeError(
                f'DetectorSweep: the optimizer wrapper is {type(optim_wrapper).__name__}, whose '
                f'{len(groups)} parameter groups name no member (lr {lrs})'
                ': every member would train at those settings, not at its own config\'s (its '
                'parameter groups, learning rate, gradient clipping). A sweep config sets the '
                f'sweep\'s own optimizer wrapper: {USAGE}')
        if optim_wrapper.members != list(self.members):
            raise ValueError(f'DetectorSweep: the optimizer wrapper holds the parameter groups '
                             f'of members {optim_wrapper.members}, the model has '
                             f'{list(self.members)}; build it from this model with '
                             'SweepOptimWrapperConstructor')
        return super().train_step(data, optim_wrapper)

    def _note_divergence(self, finite: Mapping[str, bool]) -> None:
        """Warn once when a member's loss stops being finite (again after it recovered)."""
        for name, ok in finite.items():
            if ok:
                self._diverged.discard(name)
            elif name not in self._diverged:
                self._diverged.add(name)
                print_log(
                    f'DetectorSweep: the loss of sweep member {name!r} is not finite: it '
                    'diverged (the other members train on, exactly as alone). Its weights '
                    f'follow its own gradients as alone; from now on the logged `loss` sums '
                    f'the finite members\' losses only (its own is `{name}/loss`), and its '
                    'validation metrics are NaN where it predicts nothing. Warned once until '
                    'its loss is finite again.', logger='current', level=logging.WARNING)

    def parse_losses(self, losses: Dict[str, Any]) -> Tuple[Tensor, Dict[str, Tensor]]:
        """Each member's losses parsed by the member itself; the total is their sum.

        Logged: ``loss``, the sum of the members' losses that are finite (a diverged member is
        named in a warning, :meth:`_note_divergence`, instead of turning it into NaN; the total
        that is back-propagated keeps every member's, so each member's gradients stay those it
        would get alone), and per member ``<member>/loss`` and its loss terms.
        """
        grouped: Dict[str, Dict[str, Any]] = OrderedDict((name, OrderedDict())
                                                         for name in self.members)
        for key, value in losses.items():
            name, _, term = key.partition('/')
            if name not in grouped or not term:
                raise KeyError(f'loss {key!r} does not belong to a sweep member '
                               f'({list(grouped)})')
            grouped[name][term] = value
        parsed = OrderedDict((name, member.parse_losses(grouped[name]))
                             for name, member in self.members.items())
        # one device sync for all members
        flags = torch.stack([torch.isfinite(loss.detach()).all() for loss, _ in parsed.values()])
        finite = OrderedDict(zip(parsed, flags.tolist()))
        self._note_divergence(finite)
        total = sum(loss for loss, _ in parsed.values())
        logged = (sum(loss.detach() for name, (loss, _) in parsed.items() if finite[name])
                  if any(finite.values()) else total.detach())  # all diverged: nothing finite
        log_vars = [(f'{name}/{key}', value) for name, (_, member_vars) in parsed.items()
                    for key, value in member_vars.items()]
        return total, OrderedDict([('loss', logged)] + log_vars)

    @staticmethod
    def _member_samples(batch_data_samples: List[DetDataSample]) -> List[DetDataSample]:
        """Data samples for one member's prediction: image meta (and proposals), no results."""
        out = []
        for sample in batch_data_samples:
            new = DetDataSample(metainfo=sample.metainfo)
            if 'proposals' in sample:
                new.proposals = sample.proposals
            out.append(new)
        return out

    def predict(self, batch_inputs: Tensor, batch_data_samples: List[DetDataSample],
                rescale: bool = True) -> List[DetDataSample]:
        """Every member's predictions, in ``data_sample.member_preds.<member>``."""
        feats = self.extract_feat(batch_inputs)
        per_member = OrderedDict()
        for name, member in self.members.items():
            with self._streams.use(name):
                per_member[name] = member.predict(
                    feats, self._member_samples(batch_data_samples), rescale=rescale)
        for i, sample in enumerate(batch_data_samples):
            preds = BaseDataElement()
            for name, results in per_member.items():
                preds.set_field(results[i], name)
            sample.set_field(preds, MEMBER_PREDS)
        return batch_data_samples

    def _forward(self, batch_inputs: Tensor,
                 batch_data_samples: Optional[List[DetDataSample]] = None) -> Dict[str, Any]:
        """Every member's raw head outputs (``mode='tensor'``), by member name."""
        feats = self.extract_feat(batch_inputs)
        out = OrderedDict()
        for name, member in self.members.items():
            with self._streams.use(name):
                out[name] = member._forward(feats, batch_data_samples)
        return out
