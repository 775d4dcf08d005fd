"""Parse mmfrozen config names and find the fine-tuned twin of a config.

Names follow mmdet: ``{algorithm}_{backbone}-{mode}_{neck}_{schedule}_{dataset}``, ``_`` between
parts and ``-`` inside a part; the backbone part carries the mode (``ft``, ``frozen``,
``frozen-adapters``, ``scratch``). The twin of any non-``ft`` config is the same name with the
mode replaced by ``ft``.
"""
import os.path as osp
from dataclasses import dataclass
from typing import Optional

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
    def twin(self) -> Optional[str]:
        """Stem of the fine-tuned twin; None for an ``ft`` config (it is the control)."""
        if self.mode == 'ft':
            return None
        parts = self.stem.split('_')
        parts[1] = f'{self.backbone}-ft'
        return '_'.join(parts)


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
