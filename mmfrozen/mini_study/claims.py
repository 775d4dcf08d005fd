"""The paper's three claims as quantities measured seed by seed, and their verdicts.

"Proper Reuse of Image Classification Features Improves Object Detection" (Vasconcelos et al.,
CVPR 2022) claims that (1) a frozen backbone makes training cheaper, (2) whether the frozen
detector matches fine-tuning depends on the capacity of the trained decoder, and (3) the gain is
largest on rare classes. Each claim is one difference per training seed between runs of that
seed (a replicate), compared by the rule of :mod:`.stats`; ``docs/mini_study.md`` states the
same definitions.
"""
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from .stats import paired, verdict
from .variants import HEADLINE_CAPACITIES

#: (mode, capacity, metric) -> the value of that run of one seed.
Runs = Dict[Tuple[str, str, str], float]


def _diff(runs: Runs, metric: str, capacity: str) -> Optional[float]:
    a, b = runs.get(('frozen', capacity, metric)), runs.get(('ft', capacity, metric))
    return None if a is None or b is None else a - b


@dataclass(frozen=True)
class Claim:
    """One claim: its words, the quantity measured per seed and the sign the paper predicts."""
    key: str
    text: str
    quantity: str
    direction: int
    measure: Callable[[Runs], Optional[float]]


SMALL, LARGE = HEADLINE_CAPACITIES


def _cost(runs: Runs) -> Optional[float]:
    return _diff(runs, 'sec_per_iter', LARGE)


def _capacity(runs: Runs) -> Optional[float]:
    large, small = _diff(runs, 'ap', LARGE), _diff(runs, 'ap', SMALL)
    return None if large is None or small is None else large - small


def _rare(runs: Runs) -> Optional[float]:
    rare, frequent = _diff(runs, 'apr', LARGE), _diff(runs, 'apf', LARGE)
    return None if rare is None or frequent is None else rare - frequent


CLAIMS: Tuple[Claim, ...] = (
    Claim('cost', 'Freezing the backbone makes training cheaper.',
          f'training seconds per iteration, frozen minus fine-tuned, {LARGE}', -1, _cost),
    Claim('capacity', 'Decoder capacity decides whether the frozen detector matches '
          'fine-tuning: the frozen-minus-fine-tuned AP rises with capacity.',
          f'(AP frozen - AP fine-tuned) with {LARGE} minus the same with {SMALL}', +1,
          _capacity),
    Claim('rare', 'The frozen detector gains most on rare classes.',
          f'(APr frozen - APr fine-tuned) minus (APf frozen - APf fine-tuned), {LARGE}', +1,
          _rare),
)


def judge(by_seed: Dict[int, Runs], claims: Sequence[Claim] = CLAIMS) -> List[dict]:
    """Verdict of every claim over the seeds in ``by_seed``.

    Returns:
        One dict per claim: ``claim`` (its key), ``text``, ``quantity``, ``direction``,
        ``per_seed`` ({seed: value}), ``difference`` (the mean), ``std``, ``n``, ``ci95`` and
        ``verdict``.
    """
    out = []
    for claim in claims:
        values = {s: claim.measure(runs) for s, runs in sorted(by_seed.items())}
        values = {s: v for s, v in values.items() if v is not None}
        p = paired(list(values.values()))
        out.append(dict(claim=claim.key, text=claim.text, quantity=claim.quantity,
                        direction=claim.direction, per_seed=values, difference=p.mean,
                        std=p.std, n=p.n, ci95=list(p.ci95) if p.ci95 else None,
                        verdict=verdict(p.ci95, claim.direction)))
    return out
