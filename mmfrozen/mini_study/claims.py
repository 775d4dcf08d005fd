"""The paper's three claims as quantities measured replicate by replicate, and their verdicts.

"Proper Reuse of Image Classification Features Improves Object Detection" (Vasconcelos et al.,
CVPR 2022) claims that (1) a frozen backbone makes training cheaper, (2) whether the frozen
detector matches fine-tuning depends on the capacity of the trained decoder, and (3) the gain is
largest on rare classes. Each claim is one number per replicate, compared with the paper's
effect size by the rule of :mod:`.stats`; ``docs/mini_study.md`` states the same definitions.

Replicates: for claims 2 and 3 the runs of one training seed in one world (data seed), keyed
``(data_seed, seed)``; for claim 1 the rounds of the round-robin timing of the twins in one
process (:mod:`.cost`), so that the machine's load hits both twins alike.
"""
import math
import statistics
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from .stats import MIN_REPLICATES, defined, paired, verdict
from .variants import HEADLINE_CAPACITIES

#: (mode, capacity, metric) -> the value of that run of one replicate; metric ``per_class``
#: holds {class name: AP in percent}.
Runs = Dict[Tuple[str, str, str], object]
#: (data seed, training seed): one replicate.
Replicate = Tuple[int, int]
#: class name -> (training annotations, LVIS bucket 'r' / 'c' / 'f'), per world.
ClassCounts = Mapping[str, Tuple[int, str]]

SMALL, LARGE = HEADLINE_CAPACITIES


@dataclass(frozen=True)
class Claim:
    """One claim: its words, the quantity per replicate, the predicted sign and the paper's
    effect in the quantity's units (``reference``, with where it comes from)."""
    key: str
    text: str
    quantity: str
    direction: int
    reference: float
    reference_source: str
    replicates: str


def _diff(runs: Runs, metric: str, capacity: str) -> Optional[float]:
    a, b = runs.get(('frozen', capacity, metric)), runs.get(('ft', capacity, metric))
    return a - b if defined(a) and defined(b) else None


def capacity_effect(runs: Runs) -> Optional[float]:
    """(AP frozen - AP fine-tuned) with the largest decoder minus the same with the smallest."""
    large, small = _diff(runs, 'ap', LARGE), _diff(runs, 'ap', SMALL)
    return None if large is None or small is None else large - small


def bucket_rare_effect(runs: Runs) -> Optional[float]:
    """(APr frozen - APr fine-tuned) minus (APf frozen - APf fine-tuned), largest decoder: the
    paper's LVIS comparison by buckets (reported; the verdict uses :func:`per_class_rare_effect`,
    which uses every class)."""
    rare, frequent = _diff(runs, 'apr', LARGE), _diff(runs, 'apf', LARGE)
    return None if rare is None or frequent is None else rare - frequent


def per_class_points(runs: Runs, counts: ClassCounts) -> List[Tuple[str, int, str, float]]:
    """(class, training annotations, bucket, AP frozen - AP fine-tuned) of every class both
    twins of the largest decoder evaluated (an AP that is None or NaN is not evaluated)."""
    fr, ft = runs.get(('frozen', LARGE, 'per_class')), runs.get(('ft', LARGE, 'per_class'))
    if not fr or not ft:
        return []
    out = []
    for name in sorted(fr):
        a, b = fr.get(name), ft.get(name)
        if name in counts and defined(a) and defined(b) and counts[name][0] > 0:
            out.append((name, counts[name][0], counts[name][1], a - b))
    return out


def per_class_rare_effect(runs: Runs, counts: ClassCounts) -> Optional[float]:
    """The per-class view of claim 3, in the units of the paper's APr-minus-APf gain.

    The frozen-minus-fine-tuned AP of every class (largest decoder) regressed by least squares
    on the log of its number of training annotations; the statistic is the regression's
    predicted gain of the rare bucket over the frequent one: ``slope * (mean log n of the rare
    classes - mean log n of the frequent ones)``. Positive when the frozen detector gains more
    on classes with fewer annotations. None with fewer than 3 classes, or without a rare and a
    frequent class.
    """
    points = per_class_points(runs, counts)
    if len(points) < 3:
        return None
    xs = [math.log(n) for _, n, _, _ in points]
    ys = [d for _, _, _, d in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    rare = [math.log(n) for n, b in counts.values() if b == 'r' and n > 0]
    frequent = [math.log(n) for n, b in counts.values() if b == 'f' and n > 0]
    if not rare or not frequent:
        return None
    return slope * (statistics.fmean(rare) - statistics.fmean(frequent))


COST = Claim(
    'cost', 'Freezing the backbone makes training cheaper.',
    f'training step time, frozen relative to fine-tuned, {LARGE}, timed round-robin in one '
    'process (percent change)', -1, -33.0,
    'training FLOPs per step, R101 FPN 2.4T -> 1.6T (-33%; -39% with NAS-FPN + Cascade)',
    'rounds of the round-robin timing')
CAPACITY = Claim(
    'capacity', 'Decoder capacity decides whether the frozen detector matches fine-tuning: the '
    'frozen-minus-fine-tuned AP rises with capacity.',
    f'(AP frozen - AP fine-tuned) with {LARGE} minus the same with {SMALL}', +1, 7.2,
    'Table 3: frozen minus fine-tuned -6.5 AP with an FPN, +0.7 with NAS-FPN + Cascade',
    'training seeds x worlds')
RARE = Claim(
    'rare', 'The frozen detector gains most on rare classes.',
    f'per-class AP frozen - fine-tuned ({LARGE}) regressed on log(training annotations): the '
    'predicted rare-minus-frequent gain', +1, 2.8,
    'LVIS stage 1: frozen gains +2.9 APr and +0.1 APf', 'training seeds x worlds')
CLAIMS: Tuple[Claim, ...] = (COST, CAPACITY, RARE)


def _judged(claim: Claim, values: Dict, min_n: int, missing: Sequence[str] = ()) -> dict:
    p = paired(list(values.values()))
    return dict(claim=claim.key, text=claim.text, quantity=claim.quantity,
                direction=claim.direction, reference=claim.reference,
                reference_source=claim.reference_source, replicates=claim.replicates,
                per_replicate={_key(k): v for k, v in values.items()}, difference=p.mean,
                std=p.std, n=p.n, ci95=list(p.ci95) if p.ci95 else None,
                half_width=(p.ci95[1] - p.ci95[0]) / 2 if p.ci95 else None,
                min_n=min_n, missing=list(missing),
                verdict=verdict(p.ci95, claim.direction, claim.reference, p.n, min_n))


def _key(k) -> str:
    return f'data{k[0]}-seed{k[1]}' if isinstance(k, tuple) else str(k)


def judge(by_replicate: Dict[Replicate, Runs], counts: Mapping[int, ClassCounts],
          cost_rounds: Optional[Sequence[float]] = None,
          min_n: int = MIN_REPLICATES) -> List[dict]:
    """Verdict of every claim.

    Args:
        by_replicate: (data seed, training seed) -> the runs of that replicate.
        counts: data seed -> class -> (training annotations, bucket) of that world.
        cost_rounds: Claim 1's per-round values (percent change of the step time, frozen
            relative to fine-tuned); None when it was not measured (then not judged, said so).
        min_n: The rule's minimum number of replicates.

    Returns:
        One dict per claim: ``claim``, ``text``, ``quantity``, ``direction``, ``reference``
        (the paper's effect), ``per_replicate``, ``difference`` (the mean), ``std``, ``n``,
        ``ci95``, ``half_width``, ``missing`` (replicates left out, and why) and ``verdict``.
    """
    out = []
    rounds = {i: v for i, v in enumerate(cost_rounds or ()) if defined(v)}
    missing = [f'round {i}: {v}' for i, v in enumerate(cost_rounds or ()) if not defined(v)]
    cost = _judged(COST, rounds, min_n,
                   missing if cost_rounds is not None else ['the round-robin timing did not run'])
    out.append(cost)
    for claim, measure in ((CAPACITY, lambda rep, runs: capacity_effect(runs)),
                           (RARE, lambda rep, runs: per_class_rare_effect(
                               runs, counts.get(rep[0], {})))):
        values, missing = {}, []
        for rep, runs in sorted(by_replicate.items()):
            v = measure(rep, runs)
            if v is None and claim is RARE and rep[0] not in counts:
                missing.append(f'{_key(rep)}: no training counts of world {rep[0]}\'s classes')
            elif v is None:
                missing.append(f'{_key(rep)}: {_what_is_missing(claim, runs)}')
            else:
                values[rep] = v
        out.append(_judged(claim, values, min_n, missing))
    return out


def _what_is_missing(claim: Claim, runs: Runs) -> str:
    caps = (SMALL, LARGE) if claim is CAPACITY else (LARGE, )
    metric = 'ap' if claim is CAPACITY else 'per_class'
    absent = [f'{m}-{c}' for c in caps for m in ('ft', 'frozen') if (m, c, metric) not in runs]
    if absent:
        return f'no {metric} from run(s) {absent}'
    if claim is CAPACITY:
        undefined = [f'{m}-{c}' for c in caps for m in ('ft', 'frozen')
                     if not defined(runs[(m, c, metric)])]
        return f'{metric} not finite in run(s) {undefined}'
    return 'too few classes with an AP in both twins and a training count'


def bucket_effects(by_replicate: Dict[Replicate, Runs]) -> dict:
    """Claim 3 by LVIS buckets (APr gain minus APf gain), paired over replicates: reported
    beside the verdict's per-class statistic."""
    values = {rep: v for rep, runs in sorted(by_replicate.items())
              if (v := bucket_rare_effect(runs)) is not None}
    d = paired(list(values.values())).to_dict()
    d['per_replicate'] = {_key(k): v for k, v in values.items()}
    return d
