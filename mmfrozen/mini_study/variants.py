"""The detector variants of the mini-study and their configs under ``configs/mini_study/``."""
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple


@dataclass(frozen=True)
class Variant:
    """One detector variant: a short key, its config file and what it stands for."""
    key: str
    config: str
    description: str

    @property
    def stem(self) -> str:
        return osp.splitext(self.config)[0]


VARIANTS: Tuple[Variant, ...] = (
    Variant('ft', 'faster-rcnn_r18-ft_fpn_200it_shapes.py',
            'fine-tuned backbone, small FPN decoder (control)'),
    Variant('frozen', 'faster-rcnn_r18-frozen_fpn_200it_shapes.py',
            'frozen backbone, small FPN decoder'),
    Variant('ft-capacity', 'faster-rcnn_r18-ft_bifpn-r1-w64_200it_shapes.py',
            'fine-tuned backbone, bigger decoder (StackedBiFPN, 64 wide, wider box head)'),
    Variant('frozen-capacity', 'faster-rcnn_r18-frozen_bifpn-r1-w64_200it_shapes.py',
            'frozen backbone, bigger decoder'),
    Variant('frozen-adapters', 'faster-rcnn_r18-frozen-adapters_fpn_200it_shapes.py',
            'frozen backbone with trained residual adapters, small FPN decoder'),
    Variant('scratch', 'faster-rcnn_r18-scratch_fpn_200it_shapes.py',
            'no upstream weights, small FPN decoder'),
)
#: The pair run with several seeds by ``--seeds``: the paper's headline comparison, frozen vs
#: fine-tuned with a decoder of enough capacity.
HEADLINE: Tuple[str, str] = ('ft-capacity', 'frozen-capacity')


def select(keys: Sequence[str]) -> List[Variant]:
    """The variants named by ``keys`` (all when empty), in the study's order.

    Raises:
        ValueError: an unknown key.
    """
    by_key: Dict[str, Variant] = {v.key: v for v in VARIANTS}
    unknown = [k for k in keys if k not in by_key]
    if unknown:
        raise ValueError(f'unknown variant(s) {unknown}; choose from {list(by_key)}')
    return [v for v in VARIANTS if not keys or v.key in keys]
