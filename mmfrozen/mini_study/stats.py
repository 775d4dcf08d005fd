"""Paired comparisons over training seeds, and the verdict rule of the mini-study.

The rule, as ``docs/mini_study.md`` states it before any number: a claim's quantity is a
difference measured seed by seed (the runs of one training seed form one replicate); its 95%
interval is the paired Student-t interval over the seeds. The claim is *held* when the interval
excludes 0 on the side the paper predicts, *contradicted* when it excludes 0 on the other side,
and *inconclusive* when it contains 0 or cannot be computed (fewer than two seeds).
"""
import math
import statistics
from dataclasses import asdict, dataclass
from typing import Dict, Optional, Sequence, Tuple

HELD, CONTRADICTED, INCONCLUSIVE = 'held', 'contradicted', 'inconclusive'


def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t distribution with ``df`` degrees of freedom."""
    from scipy.stats import t
    return float(t.ppf(p, df))


@dataclass(frozen=True)
class Paired:
    """Mean, sample standard deviation and 95% interval of paired differences."""
    mean: Optional[float]
    std: Optional[float]
    n: int
    ci95: Optional[Tuple[float, float]]

    def to_dict(self) -> Dict:
        d = asdict(self)
        d['ci95'] = list(self.ci95) if self.ci95 else None
        return d


def paired(differences: Sequence[Optional[float]], confidence: float = 0.95) -> Paired:
    """Summary of per-seed differences; ``None`` entries (metric not defined) are dropped.

    The interval is ``mean +- t(1 - alpha/2, n - 1) * std / sqrt(n)``; it needs n >= 2.
    """
    # differences of metrics rounded to 0.1 AP leave float noise (1e-15) where two runs tie:
    # rounded away, so that noise never decides a verdict
    values = [round(float(v), 9) for v in differences if v is not None and not math.isnan(v)]
    n = len(values)
    if n == 0:
        return Paired(None, None, 0, None)
    mean = statistics.fmean(values)
    if n == 1:
        return Paired(mean, None, 1, None)
    std = statistics.stdev(values)
    half = t_quantile(1 - (1 - confidence) / 2, n - 1) * std / math.sqrt(n)
    return Paired(mean, std, n, (mean - half, mean + half))


def verdict(interval: Optional[Tuple[float, float]], direction: int) -> str:
    """``held`` / ``contradicted`` / ``inconclusive`` for a claim that predicts the sign
    ``direction`` (+1: the difference is positive, -1: negative)."""
    if direction not in (1, -1):
        raise ValueError(f'direction must be +1 or -1, got {direction}')
    if interval is None:
        return INCONCLUSIVE
    lo, hi = interval
    if lo > 0 or hi < 0:
        return HELD if (lo > 0) == (direction > 0) else CONTRADICTED
    return INCONCLUSIVE
