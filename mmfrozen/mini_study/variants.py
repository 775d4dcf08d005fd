"""The detector variants of the mini-study and their configs under ``configs/mini_study/``.

The paper's Table 3 in miniature: fine-tuned and frozen twins at three decoder capacities (the
FPN, two and three stacked BiFPN stages: 20%, 28% and 34% of the parameters trainable when the
backbone is frozen, where the paper's decoders have 26%, 40% and 54%), plus two optional
controls.
"""
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

#: Decoder capacities, smallest first.
CAPACITIES: Tuple[str, ...] = ('fpn', 'bifpn-r2', 'bifpn-r3')


@dataclass(frozen=True)
class Variant:
    """One detector variant.

    Attributes:
        key: Short name, ``<mode>-<capacity>``.
        mode: ``ft``, ``frozen``, ``frozen-adapters`` or ``scratch`` (as the results table reads
            it from the config).
        capacity: One of :data:`CAPACITIES`.
        description: What it stands for, in words.
    """
    key: str
    mode: str
    capacity: str
    description: str

    @property
    def config(self) -> str:
        """The config file under ``configs/mini_study/``."""
        return f'fcos_r18-{self.mode}_{self.capacity}_1xb8-450it_shapes.py'

    @property
    def stem(self) -> str:
        return osp.splitext(self.config)[0]


def _twins() -> List[Variant]:
    words = {'fpn': 'FPN', 'bifpn-r2': 'two stacked BiFPN stages',
             'bifpn-r3': 'three stacked BiFPN stages'}
    out = []
    for cap in CAPACITIES:
        out.append(Variant(f'ft-{cap}', 'ft', cap, f'fine-tuned backbone, {words[cap]}'))
        out.append(Variant(f'frozen-{cap}', 'frozen', cap, f'frozen backbone, {words[cap]}'))
    return out


VARIANTS: Tuple[Variant, ...] = tuple(_twins()) + (
    Variant('frozen-adapters-fpn', 'frozen-adapters', 'fpn',
            'frozen backbone with trained residual adapters, FPN'),
    Variant('scratch-fpn', 'scratch', 'fpn', 'no upstream weights, FPN'),
)
#: What a plain run trains: the twins at every capacity.
DEFAULT_KEYS: Tuple[str, ...] = tuple(v.key for v in VARIANTS if v.mode in ('ft', 'frozen'))
#: The capacities whose twins run with every seed (the headline comparisons).
HEADLINE_CAPACITIES: Tuple[str, str] = (CAPACITIES[0], CAPACITIES[-1])


def select(keys: Sequence[str] = ()) -> List[Variant]:
    """The variants named by ``keys`` (default: :data:`DEFAULT_KEYS`), in the study's order.

    Raises:
        ValueError: an unknown key.
    """
    by_key: Dict[str, Variant] = {v.key: v for v in VARIANTS}
    unknown = [k for k in keys if k not in by_key]
    if unknown:
        raise ValueError(f'unknown variant(s) {unknown}; choose from {list(by_key)}')
    keys = keys or DEFAULT_KEYS
    return [v for v in VARIANTS if v.key in keys]


def plan_runs(variants: Sequence[Variant], seeds: int) -> List[Tuple[Variant, int]]:
    """(variant, training seed) of every run: seeds ``0..seeds-1`` for the twins of the headline
    capacities, seed 0 for the others. Ordered for two workers: the costliest decoders first, and
    each frozen run next to its fine-tuned twin of the same seed, so twins train side by side."""
    runs = []
    for v in variants:
        n = seeds if v.capacity in HEADLINE_CAPACITIES and v.mode in ('ft', 'frozen') else 1
        runs += [(v, s) for s in range(n)]
    rank = {c: i for i, c in enumerate(CAPACITIES)}
    mode_rank = {'ft': 0, 'frozen': 1, 'frozen-adapters': 2, 'scratch': 3}
    return sorted(runs, key=lambda r: (-rank[r[0].capacity], r[1], mode_rank[r[0].mode]))
