"""Parse mmfrozen config names and find the fine-tuned twin of a config.

Names follow mmdet: ``{algorithm}_{backbone}-{mode}_{neck}_{schedule}_{dataset}``, ``_`` between
parts and ``-`` inside a part; the backbone part carries the mode (``ft``, ``frozen``,
``frozen-adapters``, ``scratch``). The twin of any non-``ft`` config is the same name with the
mode replaced by ``ft``.
"""
from dataclasses import dataclass
from typing import Optional

#: Mode suffixes of the backbone part, longest first so ``-frozen-adapters`` wins over ``-frozen``.
NAME_MODES = ('frozen-adapters', 'frozen-lora', 'frozen', 'scratch', 'ft')


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
