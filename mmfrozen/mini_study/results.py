"""Stage 5a: the study's results from the results table's rows, grouped by variant and
replicate, with the paired differences and the paper's claims.

Every number comes from the rows :class:`~mmfrozen.analysis.results.ResultsTable` reads from
the runs' work dirs (final metrics, logged iteration times, evaluations, parameter counts); this
module only groups them by variant and replicate, takes differences replicate by replicate and
applies the verdict rule of :mod:`.stats` (through :mod:`.claims`).
"""
import os.path as osp
import statistics
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from .claims import LARGE, SMALL, ClassCounts, bucket_effects, judge, per_class_points
from .stats import MIN_REPLICATES, defined, paired
from .variants import CAPACITIES, VARIANTS, Variant

#: Metric name in the summary -> column of the results table (percent).
METRICS = {'ap': 'box_ap', 'ap50': 'ap50', 'apr': 'apr', 'apc': 'apc', 'apf': 'apf'}


@dataclass
class RunResult:
    """One finished run, as the results table read it.

    ``curve``: (training seconds, box AP) at every validation; ``evals``: (iteration, box AP)
    at every validation; ``per_class``: class -> AP at the last validation (percent);
    ``data_seed``: the world it ran in.
    """
    variant: Variant
    seed: int
    work_dir: str
    metrics: Dict[str, Optional[float]]
    sec_per_iter: Optional[float]
    trainable_params: Optional[int]
    total_params: Optional[int]
    curve: List[Tuple[float, float]] = field(default_factory=list)
    data_seed: int = 0
    per_class: Dict[str, float] = field(default_factory=dict)
    evals: List[Tuple[int, float]] = field(default_factory=list)

    def converged(self, tol: float) -> Optional[bool]:
        """Whether the last two validations differ by at most ``tol`` box AP (None: fewer
        than two validations)."""
        if len(self.evals) < 2:
            return None
        return abs(self.evals[-1][1] - self.evals[-2][1]) <= tol

    @property
    def trainable_share(self) -> Optional[float]:
        if not self.trainable_params or not self.total_params:
            return None
        return self.trainable_params / self.total_params


def training_seconds(train_records: Sequence[dict]) -> List[Tuple[int, float]]:
    """(iteration, training seconds so far) at every logged iteration.

    mmengine logs the mean iteration time of the window that ends at each logged iteration; the
    study's configs log every ``window_size`` iterations, so the sum of ``time`` x iterations
    since the previous record is the wall-clock time spent in training iterations (validation
    excluded).
    """
    out, total, last = [], 0.0, 0
    for r in train_records:
        t = r.get('time')
        if not isinstance(t, (int, float)):
            continue
        total += t * (r['iter'] - last)
        last = r['iter']
        out.append((r['iter'], total))
    return out


def time_curve(row) -> List[Tuple[float, float]]:
    """(training seconds, box AP in percent) at every evaluation of a results-table row."""
    seconds = training_seconds(row.summary.run.train)
    out = []
    for it, ap in row.summary.curve('box_ap'):
        done = [s for i, s in seconds if i <= it]
        if done:
            out.append((done[-1], ap))
    return out


def class_counts(det_data) -> Dict[str, Tuple[int, str]]:
    """class -> (training annotations, LVIS bucket) of a world's detection set."""
    from ..analysis.results.run_summary import annotation_counts
    counts = annotation_counts(osp.join(det_data.root, det_data.train_ann))
    return {name: (counts.get(name, 0), det_data.frequency[name]) for name in det_data.classes}


def run_results(rows: Sequence, records: Sequence[dict], variants: Dict[str, Variant],
                converge_tol: Optional[float] = None) -> Tuple[List[RunResult], List[str]]:
    """Match the study's run records (``variant``, ``seed``, ``work_dir``, ``data_seed``) with
    table rows.

    Returns:
        The results, and a warning for every record the table has no row for, every run whose
        per-class AP was not logged, every run that diverged, and (with ``converge_tol``) every run that did not converge
        by the criterion or has too few validations to tell.
    """
    from ..analysis.results.run_summary import divergence
    by_dir = {}
    for row in rows:
        by_dir.setdefault(row.summary.run.work_dir.rstrip('/'), row)
    out, warnings = [], []
    for r in records:
        row = by_dir.get(r['work_dir'].rstrip('/'))
        if row is None:
            warnings.append(f'run {r["variant"]} seed {r["seed"]} ({r["work_dir"]}): the '
                            'results table has no row for it; left out of the summary')
            continue
        result = RunResult(
            variant=variants[r['variant']], seed=r['seed'], work_dir=r['work_dir'],
            metrics={k: row.summary.final.get(col) for k, col in METRICS.items()},
            sec_per_iter=row.summary.sec_per_iter, trainable_params=row.trainable_params,
            total_params=row.total_params, curve=time_curve(row),
            data_seed=r.get('data_seed', 0), per_class=dict(row.summary.per_class),
            evals=list(row.summary.curve('box_ap')))
        where = f'run {r["variant"]} world {result.data_seed} seed {r["seed"]}'
        if not result.per_class:
            warnings.append(f'{where}: no per-class AP in its log (classwise=False?); claim 3\'s '
                            'per-class statistic leaves it out')
        diverged = divergence(row.summary.run.train)
        if diverged is not None:
            it, key, value = diverged
            warnings.append(f'{where}: diverged ({key} {value} from iteration {it} to the end); '
                            'its metrics enter the summary as measured')
        converged = None if converge_tol is None else result.converged(converge_tol)
        if converged is False:
            a, b = result.evals[-2][1], result.evals[-1][1]
            warnings.append(f'{where}: not converged by the criterion (last two validations '
                            f'{a:.1f} and {b:.1f} AP differ by more than {converge_tol})')
        elif converge_tol is not None and converged is None:
            warnings.append(f'{where}: {len(result.evals)} validation(s) with a box AP: its '
                            'convergence cannot be judged (the criterion compares the last two); '
                            'not counted as converged')
        out.append(result)
    return out, warnings


def _stats(values: Sequence[Optional[float]]) -> Dict[str, Optional[float]]:
    vals = [v for v in values if defined(v)]
    return dict(mean=statistics.fmean(vals) if vals else None,
                std=statistics.stdev(vals) if len(vals) > 1 else None, n=len(vals))


def summarize(results: Sequence[RunResult],
              counts: Optional[Dict[int, ClassCounts]] = None, cost: Optional[dict] = None,
              min_n: int = MIN_REPLICATES, converge_tol: float = 0.5) -> dict:
    """Per-variant means, the capacity curve, the headline comparisons and the claims.

    Args:
        results: The runs.
        counts: data seed -> class -> (training annotations, bucket) (claim 3's per-class view).
        cost: Claim 1's round-robin timing (:func:`.cost.cost_claim`), None when not measured.
        min_n: The rule's minimum number of replicates.
        converge_tol: The convergence criterion (box AP between the last two validations).
    """
    counts = counts or {}
    seen: Dict[Tuple[str, int, int], str] = {}
    for r in results:
        other = seen.setdefault((r.variant.key, r.data_seed, r.seed), r.work_dir)
        if other != r.work_dir:
            raise ValueError(f'two runs of {r.variant.key} world {r.data_seed} seed {r.seed} '
                             f'({other} and {r.work_dir}): one replicate has one run of each '
                             'variant; leave one of them out')
    by_variant: Dict[str, List[RunResult]] = {}
    for r in results:
        by_variant.setdefault(r.variant.key, []).append(r)
    variants = {}
    order = [v.key for v in VARIANTS]  # by decoder capacity, each fine-tuned run then its twin
    for key, runs in sorted(by_variant.items(), key=lambda kv: order.index(kv[0])):
        v = runs[0].variant
        conv = [r.converged(converge_tol) for r in runs]
        entry = dict(mode=v.mode, capacity=v.capacity, config=v.stem,
                     seeds=sorted(r.seed for r in runs),
                     replicates=sorted(f'data{r.data_seed}-seed{r.seed}' for r in runs),
                     trainable_share=runs[0].trainable_share,
                     trainable_params=runs[0].trainable_params,
                     total_params=runs[0].total_params,
                     sec_per_iter=_stats([r.sec_per_iter for r in runs])['mean'],
                     converged=sum(c is True for c in conv),
                     last_change=_stats([abs(r.evals[-1][1] - r.evals[-2][1])
                                         for r in runs if len(r.evals) > 1])['mean'])
        for m in METRICS:
            s = _stats([r.metrics[m] for r in runs])
            entry[m], entry[f'{m}_std'], entry[f'{m}_n'] = s['mean'], s['std'], s['n']
        variants[key] = entry

    # (data seed, seed) -> (mode, capacity, metric) -> value, for the paired differences
    by_rep: Dict[Tuple[int, int], Dict[Tuple[str, str, str], object]] = {}
    for r in results:
        runs = by_rep.setdefault((r.data_seed, r.seed), {})
        for m, value in list(r.metrics.items()) + [('sec_per_iter', r.sec_per_iter)]:
            if defined(value):
                runs[(r.variant.mode, r.variant.capacity, m)] = value
        if r.per_class:
            runs[(r.variant.mode, r.variant.capacity, 'per_class')] = r.per_class

    def twin_difference(capacity: str, metric: str) -> dict:
        diffs, missing = [], []
        for rep, runs in sorted(by_rep.items()):
            a, b = runs.get(('frozen', capacity, metric)), runs.get(('ft', capacity, metric))
            if a is not None and b is not None:
                diffs.append(a - b)
            elif a is not None or b is not None:
                missing.append(f'data{rep[0]}-seed{rep[1]}: no '
                               f'{"fine-tuned" if b is None else "frozen"} twin with a {metric}')
        d = paired(diffs).to_dict()
        d['missing'] = missing
        return d

    curve = []
    for cap in CAPACITIES:
        frozen = variants.get(f'frozen-{cap}')
        if frozen is None or f'ft-{cap}' not in variants:
            continue
        curve.append(dict(capacity=cap, trainable_share=frozen['trainable_share'],
                          d_ap=twin_difference(cap, 'ap'), d_apr=twin_difference(cap, 'apr'),
                          d_apf=twin_difference(cap, 'apf'),
                          d_sec_per_iter=twin_difference(cap, 'sec_per_iter')))
    headline = []
    for cap in (SMALL, LARGE):
        for m in ('ap', 'apr'):
            ft, fr = variants.get(f'ft-{cap}'), variants.get(f'frozen-{cap}')
            if ft is None or fr is None:
                continue
            headline.append(dict(
                capacity=cap, metric=m,
                ft=dict(mean=ft[m], std=ft[f'{m}_std'], n=ft[f'{m}_n']),
                frozen=dict(mean=fr[m], std=fr[f'{m}_std'], n=fr[f'{m}_n']),
                difference=twin_difference(cap, m)))
    per_class = []
    for rep, runs in sorted(by_rep.items()):
        for name, n, bucket, d in per_class_points(runs, counts.get(rep[0], {})):
            per_class.append(dict(data_seed=rep[0], seed=rep[1], cls=name, annotations=n,
                                  bucket=bucket, d_ap=d))
    claims = judge(by_rep, counts, cost['percent_change'] if cost else None, min_n)
    return dict(variants=variants, capacity_curve=curve, headline=headline, claims=claims,
                rare_by_buckets=bucket_effects(by_rep), per_class=per_class, cost=cost,
                convergence=dict(tolerance=converge_tol, runs=len(results),
                                 converged=sum(r.converged(converge_tol) is True
                                               for r in results)))
