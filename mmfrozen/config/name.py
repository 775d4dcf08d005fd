"""Parse mmfrozen config names and find the fine-tuned twin of a config.

Names follow mmdet: ``{algorithm}_{backbone}-{mode}_{neck}_{schedule}_{dataset}``, ``_`` between
parts and ``-`` inside a part; the backbone part carries the mode (``ft``, ``frozen``,
``frozen-adapters``, ``scratch``). The twin of any non-``ft`` config is the same name with the
mode replaced by ``ft``.
"""
import os.path as osp
import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

from .mode import MODES

#: The modes a name can carry, longest first so ``-frozen-adapters`` wins over ``-frozen``.
NAME_MODES = tuple(sorted(MODES, key=len, reverse=True))


@dataclass(frozen=True)
class ConfigName:
    """The parts of a config name that follows the convention.

    Attributes:
        stem: The file name without ``.py``.
        algorithm: First part, e.g. ``faster-rcnn``.
        backbone: Backbone part without the mode, e.g. ``r50``.
        mode: Mode token of the name, one of :data:`NAME_MODES`.
        neck: Third part, e.g. ``fpn``.
        schedule: The parts between the neck and the dataset, e.g. ``1x`` or ``lsj-72e``.
        dataset: Last part, e.g. ``coco``.
    """
    stem: str
    algorithm: str
    backbone: str
    mode: str
    neck: str
    schedule: str
    dataset: str

    @classmethod
    def parse(cls, stem: str) -> Optional['ConfigName']:
        """Parse ``stem``; None when it does not follow the naming convention."""
        if stem.endswith('.py'):
            stem = stem[:-3]
        parts = stem.split('_')
        if len(parts) < 5:
            return None
        backbone_part = parts[1]
        for mode in NAME_MODES:
            if backbone_part.endswith('-' + mode) and len(backbone_part) > len(mode) + 1:
                backbone = backbone_part[:-len(mode) - 1]
                break
        else:
            return None
        return cls(stem=stem, algorithm=parts[0], backbone=backbone, mode=mode, neck=parts[2],
                   schedule='_'.join(parts[3:-1]), dataset=parts[-1])

    @property
    def claims(self) -> 'NamedSchedule':
        """What the schedule part says about the training length and batch."""
        return NamedSchedule.parse(self.schedule)

    @property
    def twin(self) -> Optional[str]:
        """Stem of the fine-tuned twin; None for an ``ft`` config (it is the control)."""
        if self.mode == 'ft':
            return None
        parts = self.stem.split('_')
        parts[1] = f'{self.backbone}-ft'
        return '_'.join(parts)


#: Tokens of a name's schedule part that say how long or with which batch a config trains
#: (mmdet's naming convention): ``1x`` = 12 epochs, ``72e``, ``450it``, ``90k`` iterations,
#: ``8xb2`` (8 GPUs of 2 images each).
_TOKENS = (('gpus_batch', re.compile(r'(\d+)xb(\d+)')), ('epochs_x', re.compile(r'(\d+)x')),
           ('epochs', re.compile(r'(\d+)e')), ('iters', re.compile(r'(\d+)(it|iter|iters|i|k)')))
#: Passes over the data that an iteration-based loop may differ from the epochs its name says
#: by (mmdet's Mask2Former ``50e``: 368,750 iterations of 7,393 batches, 49.9 passes).
EPOCHS_AS_ITERS_TOLERANCE = 0.02


def _schedule_tokens(schedule: str) -> List[Tuple[str, Optional[str], Optional[re.Match]]]:
    """(text, kind, match) of each piece of a schedule part, separators included (kind None);
    a mantissa before an exponent (``1e-3``, ``5e-4``: a threshold or a learning rate) is no
    length."""
    pieces = re.split('([-_])', schedule)
    out: List[Tuple[str, Optional[str], Optional[re.Match]]] = []
    for i, piece in enumerate(pieces):
        kind, match = None, None
        exponent = i + 2 < len(pieces) and pieces[i + 1] == '-' and pieces[i + 2].isdigit()
        for name, pattern in _TOKENS:
            m = pattern.fullmatch(piece)
            if m and not (name == 'epochs' and exponent):
                kind, match = name, m
                break
        out.append((piece, kind, match))
    return out


@dataclass(frozen=True)
class NamedSchedule:
    """What a name's schedule part says of the training length and batch (None: it says
    nothing, or two tokens of the same kind disagree).

    Attributes:
        epochs: ``1x`` (12 epochs; ``Nx`` is 12N), ``72e``.
        iters: ``450it``, ``90k`` (90,000).
        gpus / batch_per_gpu: ``8xb2``: 8 GPUs of 2 images each.
    """
    epochs: Optional[int] = None
    iters: Optional[int] = None
    gpus: Optional[int] = None
    batch_per_gpu: Optional[int] = None

    @classmethod
    def parse(cls, schedule: str) -> 'NamedSchedule':
        found: dict = {}
        clash: set = set()

        def put(key: str, value: int) -> None:
            if found.setdefault(key, value) != value:
                clash.add(key)
        for _, kind, m in _schedule_tokens(schedule):
            if kind == 'gpus_batch':
                put('gpus', int(m[1]))
                put('batch_per_gpu', int(m[2]))
            elif kind == 'epochs_x':
                put('epochs', 12 * int(m[1]))
            elif kind == 'epochs':
                put('epochs', int(m[1]))
            elif kind == 'iters':
                put('iters', int(m[1]) * (1000 if m[2] == 'k' else 1))
        return cls(**{k: v for k, v in found.items() if k not in clash})

    @staticmethod
    def rewrite(schedule: str, epochs: Optional[int], iters: Optional[int],
                batch_per_gpu: Optional[int]) -> str:
        """``schedule`` (a name's schedule part) with its length and batch tokens replaced by
        what a run trained (``lsj-72e`` -> ``lsj-12e``, ``1xb8-450it`` -> ``1xb16-800it``); a
        length the name does not state is added at the end."""
        out, length_done = [], False
        for piece, kind, m in _schedule_tokens(schedule):
            if kind == 'gpus_batch' and batch_per_gpu:
                piece = f'{m[1]}xb{batch_per_gpu}'
            elif kind in ('epochs_x', 'epochs', 'iters'):
                piece = '' if length_done else f'{epochs}e' if epochs else f'{iters}it'
                length_done = True
            out.append(piece)
        text = re.sub('([-_])[-_]+', r'\1', ''.join(out)).strip('-_')
        if not length_done and (epochs or iters):
            text += ('-' if text else '') + (f'{epochs}e' if epochs else f'{iters}it')
        return text

    def unchecked(self, by_epoch: Optional[bool], max_iters: Optional[int],
                  batches_per_epoch: Optional[int]) -> Optional[str]:
        """What cannot be checked, in words: an iteration-based loop whose name says epochs,
        when the logs do not say the iterations of one epoch (``log_processor.by_epoch=False``);
        None otherwise."""
        if self.epochs is not None and by_epoch is False and max_iters and not batches_per_epoch:
            return (f'the name says {self.epochs} epochs, the iteration-based loop runs '
                    f'{max_iters} iterations, and the logs do not say the iterations of one '
                    'epoch: the length is not checked')
        return None

    def disagreements(self, by_epoch: Optional[bool], max_epochs: Optional[int],
                      max_iters: Optional[int], batch_size: Optional[int],
                      repeats: int = 1, batches_per_epoch: Optional[int] = None) -> List[str]:
        """What a config's ``train_cfg`` and ``train_dataloader.batch_size`` train that the
        name does not say, in words; empty when they agree (or either is unknown).

        Args:
            repeats: The ``times`` of the ``RepeatDataset`` the loader reads (mmdet's ``3x``
                and LSJ configs run 12 epochs of a dataset repeated 3 times, 18 of one
                repeated 4): one loop epoch is that many passes over the data.
            batches_per_epoch: The training dataloader's length, when the logs say it: an
                iteration-based loop whose name says epochs (mmdet's Mask2Former ``50e``)
                agrees when its iterations make that many passes over the data (within
                :data:`EPOCHS_AS_ITERS_TOLERANCE`).
        """
        found = []
        if max_epochs and repeats > 1:
            max_epochs *= repeats
        if self.epochs is not None and by_epoch is False and max_iters:
            passes = (max_iters / batches_per_epoch * repeats if batches_per_epoch else None)
            if passes is not None and \
                    abs(passes - self.epochs) > EPOCHS_AS_ITERS_TOLERANCE * self.epochs:
                found.append(f'{max_iters} iterations ({passes:.4g} passes over the data) '
                             f'where the name says {self.epochs} epochs')
        elif self.epochs is not None and by_epoch and max_epochs and max_epochs != self.epochs:
            found.append(f'{max_epochs} epochs where the name says {self.epochs}')
        if self.iters is not None and by_epoch and max_epochs:
            found.append(f'{max_epochs} epochs where the name says {self.iters} iterations')
        elif self.iters is not None and by_epoch is False and max_iters \
                and max_iters != self.iters:
            found.append(f'{max_iters} iterations where the name says {self.iters}')
        if self.batch_per_gpu is not None and batch_size and batch_size != self.batch_per_gpu:
            found.append(f'{batch_size} images per GPU where the name says '
                         f'{self.batch_per_gpu}')
        return found


def twin_config_path(config_path: str) -> str:
    """Path of the fine-tuned twin of a non-``ft`` config (same directory, mode -> ``ft``).

    Raises:
        ValueError: the name does not follow the convention, or the config is itself the
            fine-tuned one.
        FileNotFoundError: the twin file does not exist.
    """
    name = ConfigName.parse(osp.basename(config_path))
    if name is None:
        raise ValueError(
            f'{osp.basename(config_path)!r} does not follow the naming rule '
            '{algorithm}_{backbone}-{mode}_{neck}_{schedule}_{dataset}.py with mode one of '
            f'{list(NAME_MODES)} (e.g. faster-rcnn_r50-frozen_fpn_1x_coco.py), so its '
            'fine-tuned twin cannot be found. Rename it, or pass the fine-tuned config '
            'explicitly.')
    if name.twin is None:
        raise ValueError(f'{osp.basename(config_path)!r} is already the fine-tuned config; '
                         '--twin pairs a frozen/adapters/scratch config with its ft twin. Pass '
                         'the frozen config instead.')
    twin = osp.join(osp.dirname(config_path), name.twin + '.py')
    if not osp.isfile(twin):
        raise FileNotFoundError(f'the fine-tuned twin of {config_path} should be {twin}, which '
                                'does not exist. Write it (the same config with the mode "ft") '
                                'or drop --twin/--stock.')
    return twin
