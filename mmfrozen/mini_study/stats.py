"""Paired comparisons over replicates, and the verdict rule of the mini-study.

The rule, as ``docs/mini_study.md`` states it before any number: a claim's quantity is a
difference measured replicate by replicate (the runs of one training seed in one world form one
replicate; data seeds enter as further replicates); its 95% interval is the paired Student-t
interval over the replicates. Against the paper's effect size ``reference`` (same units, on the
predicted side), a claim is

- *held* when the interval excludes 0 on the side the paper predicts;
- *contradicted* when it excludes 0 on the other side;
- *smaller than the paper's* when it contains 0 but excludes the paper's effect;
- *inconclusive* when it contains both;
- *not judged* with fewer than :data:`MIN_REPLICATES` replicates (the interval is still
  reported, the rule does not judge it).
"""
import math
import statistics
from dataclasses import asdict, dataclass
from typing import Dict, Optional, Sequence, Tuple

HELD, CONTRADICTED, INCONCLUSIVE = 'held', 'contradicted', 'inconclusive'
SMALLER = "smaller than the paper's"
NOT_JUDGED = 'not judged'
VERDICTS = (HELD, CONTRADICTED, SMALLER, INCONCLUSIVE, NOT_JUDGED)
#: The rule's minimum number of replicates for a verdict (two replicates give an interval from
#: one degree of freedom, whose t quantile of 12.7 makes any verdict an accident of two draws).
MIN_REPLICATES = 3


def defined(value: Optional[float]) -> bool:
    """Whether a metric or difference is defined: not None, not NaN (COCOeval's AP of a class
    without instances), not infinite."""
    return value is not None and math.isfinite(value)


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
    values = [round(float(v), 9) for v in differences if defined(v)]
    n = len(values)
    if n == 0:
        return Paired(None, None, 0, None)
    mean = statistics.fmean(values)
    if n == 1:
        return Paired(mean, None, 1, None)
    std = statistics.stdev(values)
    half = t_quantile(1 - (1 - confidence) / 2, n - 1) * std / math.sqrt(n)
    return Paired(mean, std, n, (mean - half, mean + half))


def verdict(interval: Optional[Tuple[float, float]], direction: int,
            reference: Optional[float] = None, n: Optional[int] = None,
            min_n: int = MIN_REPLICATES) -> str:
    """The verdict of the rule for a claim that predicts the sign ``direction`` (+1: the
    difference is positive, -1: negative) with the paper's effect ``reference`` (a value on the
    predicted side; None: no effect size, so never *smaller than the paper's*), from the 95%
    interval over ``n`` replicates (None: not counted here)."""
    if direction not in (1, -1):
        raise ValueError(f'direction must be +1 or -1, got {direction}')
    if reference is not None and reference * direction <= 0:
        raise ValueError(f'the paper\'s effect {reference} is not on the predicted side '
                         f'(direction {direction:+d})')
    if n is not None and n < min_n:
        return NOT_JUDGED
    if interval is None:
        return INCONCLUSIVE
    lo, hi = interval
    if not (defined(lo) and defined(hi)):
        raise ValueError(f'the interval {interval} is not finite: take it with paired(), which '
                         'leaves out undefined differences')
    if lo > 0 or hi < 0:
        return HELD if (lo > 0) == (direction > 0) else CONTRADICTED
    if reference is not None and not lo <= reference <= hi:
        return SMALLER
    return INCONCLUSIVE
