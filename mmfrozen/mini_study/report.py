"""Stage 4: the study's summary from the results table's rows; plots; the paper's three claims.

Every number comes from the rows :class:`~mmfrozen.analysis.results.ResultsTable` reads from
the runs' work dirs (final metrics, logged iteration times, evaluations, parameter counts); this
module only groups them by variant and seed, takes differences seed by seed and applies the
verdict rule of :mod:`.stats`.
"""
import json
import os.path as osp
import statistics
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from .claims import LARGE, SMALL, ClassCounts, bucket_effects, judge, per_class_points
from .stats import MIN_REPLICATES, paired
from .variants import CAPACITIES, VARIANTS, Variant

#: Metric name in the summary -> column of the results table (percent).
METRICS = {'ap': 'box_ap', 'ap50': 'ap50', 'apr': 'apr', 'apc': 'apc', 'apf': 'apf'}
#: The paper's Table 3 (R101, ImageNet): trainable share when frozen, frozen minus fine-tuned AP.
PAPER_TABLE3 = (('FPN', 0.26, -6.5), ('NAS-FPN', 0.40, 0.1), ('NAS-FPN + Cascade', 0.54, 0.7))


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
        per-class AP was not logged, and (with ``converge_tol``) every run that did not converge
        by the criterion.
    """
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
        if converge_tol is not None and result.converged(converge_tol) is False:
            a, b = result.evals[-2][1], result.evals[-1][1]
            warnings.append(f'{where}: not converged by the criterion (last two validations '
                            f'{a:.1f} and {b:.1f} AP differ by more than {converge_tol})')
        out.append(result)
    return out, warnings


def _stats(values: Sequence[Optional[float]]) -> Dict[str, Optional[float]]:
    vals = [v for v in values if v is not None]
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
            entry[m], entry[f'{m}_std'] = s['mean'], s['std']
        variants[key] = entry

    # (data seed, seed) -> (mode, capacity, metric) -> value, for the paired differences
    by_rep: Dict[Tuple[int, int], Dict[Tuple[str, str, str], object]] = {}
    for r in results:
        runs = by_rep.setdefault((r.data_seed, r.seed), {})
        for m, value in list(r.metrics.items()) + [('sec_per_iter', r.sec_per_iter)]:
            if value is not None:
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
                               f'{"fine-tuned" if b is None else "frozen"} twin')
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
                ft=dict(mean=ft[m], std=ft[f'{m}_std'], n=len(ft['replicates'])),
                frozen=dict(mean=fr[m], std=fr[f'{m}_std'], n=len(fr['replicates'])),
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


# -- text ------------------------------------------------------------------------------------
def _num(value: Optional[float], digits: int = 1, sign: bool = False) -> str:
    if value is None:
        return 'n/a'
    return f'{value:+.{digits}f}' if sign else f'{value:.{digits}f}'


def _pm(mean: Optional[float], std: Optional[float], digits: int = 1, sign=False) -> str:
    return _num(mean, digits, sign) + (f' ± {std:.{digits}f}' if std is not None else '')


def _ci(ci: Optional[Sequence[float]], digits: int = 1) -> str:
    return f'[{ci[0]:+.{digits}f}, {ci[1]:+.{digits}f}]' if ci else 'n/a (one replicate)'


def markdown(summary: dict, header: Sequence[str] = ()) -> str:
    """The summary as markdown: variants, capacity curve, headline comparisons, claims."""
    lines = list(header)
    lines += ['## Variants (mean ± sample std over replicates; AP in percent)', '',
              '| variant | replicates | trainable share | AP | AP50 | APr | APc | APf | s/iter '
              '| converged |', '|---|---|---|---|---|---|---|---|---|---|']
    for key, v in summary['variants'].items():
        share = v['trainable_share']
        lines.append(
            f'| {key} | {len(v["replicates"])} | {"n/a" if share is None else f"{share:.0%}"} | '
            + ' | '.join(_pm(v[m], v[f'{m}_std']) for m in METRICS)
            + f' | {_num(v["sec_per_iter"], 3)} | {v["converged"]}/{len(v["replicates"])} |')
    lines += ['', '## Capacity curve (frozen minus fine-tuned, paired by replicate; 95% interval)',
              '', '| decoder | trainable share (frozen) | replicates | ΔAP | 95% CI | ΔAPr | 95% CI '
              '| Δ s/iter |', '|---|---|---|---|---|---|---|---|']
    for c in summary['capacity_curve']:
        share = c['trainable_share']
        lines.append(f'| {c["capacity"]} | {"n/a" if share is None else f"{share:.0%}"} | '
                     f'{c["d_ap"]["n"]} | {_pm(c["d_ap"]["mean"], c["d_ap"]["std"], sign=True)} '
                     f'| {_ci(c["d_ap"]["ci95"])} | '
                     f'{_pm(c["d_apr"]["mean"], c["d_apr"]["std"], sign=True)} | '
                     f'{_ci(c["d_apr"]["ci95"])} | '
                     f'{_num(c["d_sec_per_iter"]["mean"], 3, sign=True)} |')
    lines += ['', '## Headline comparisons', '',
              '| decoder | metric | fine-tuned | frozen | frozen − fine-tuned | 95% CI |',
              '|---|---|---|---|---|---|']
    for h in summary['headline']:
        d = h['difference']
        lines.append(f'| {h["capacity"]} | {"AP" + h["metric"][2:]} | '
                     f'{_pm(h["ft"]["mean"], h["ft"]["std"])} | '
                     f'{_pm(h["frozen"]["mean"], h["frozen"]["std"])} | '
                     f'{_pm(d["mean"], d["std"], sign=True)} | {_ci(d["ci95"])} |')
    lines += ['', '## The paper\'s claims (rule: docs/mini_study.md)', '',
              '| claim | quantity (per replicate) | paper\'s effect | mean | 95% CI | half-width '
              '| n | verdict |', '|---|---|---|---|---|---|---|---|']
    for c in summary['claims']:
        digits = 1
        unit = '%' if c['claim'] == 'cost' else ''
        lines.append(f'| {c["text"]} | {c["quantity"]} ({c["replicates"]}) | '
                     f'{c["reference"]:+.1f}{unit} | {_num(c["difference"], digits, sign=True)}'
                     f' | {_ci(c["ci95"], digits)} | {_num(c["half_width"], digits)} | {c["n"]} '
                     f'| **{c["verdict"]}** |')
    missing = [f'{c["claim"]}: {m}' for c in summary['claims'] for m in c['missing']]
    if missing:
        lines += ['', 'Replicates left out of a claim (named, never dropped silently):', '']
        lines += [f'- {m}' for m in missing]
    b = summary.get('rare_by_buckets')
    if b:
        lines += ['', f'Claim 3 by LVIS buckets instead (reported, not the verdict\'s '
                  f'statistic): (ΔAPr − ΔAPf) {LARGE} {_pm(b["mean"], b["std"], sign=True)}, '
                  f'95% CI {_ci(b["ci95"])}, n {b["n"]}.']
    cost = summary.get('cost')
    if cost:
        lines += ['', f'Claim 1\'s timing: {len(cost["percent_change"])} rounds round-robin in one '
                  f'process; frozen/fine-tuned step time {cost["ratio_mean"]:.3f}; trainable '
                  f'parameters {cost["trainable_params"]["frozen"]:,} vs '
                  f'{cost["trainable_params"]["ft"]:,}; optimizer state '
                  f'{cost["optimizer_state_bytes"]["frozen"] / 2**20:.1f} vs '
                  f'{cost["optimizer_state_bytes"]["ft"] / 2**20:.1f} MiB.']
    conv = summary.get('convergence')
    if conv:
        lines += ['', f'Convergence (last two validations within {conv["tolerance"]} AP): '
                  f'{conv["converged"]} of {conv["runs"]} runs.']
    return '\n'.join(lines) + '\n'


def headline_lines(summary: dict) -> List[str]:
    """One console line per claim."""
    out = []
    for c in summary['claims']:
        unit = '%' if c['claim'] == 'cost' else ' AP'
        out.append(f'{c["claim"]}: {c["verdict"]} ({c["quantity"]}: '
                   f'{_num(c["difference"], 1, sign=True)}, 95% CI {_ci(c["ci95"], 1)}, n '
                   f'{c["n"]}; the paper\'s effect {c["reference"]:+.1f}{unit})')
    return out


# -- plots -----------------------------------------------------------------------------------
def plot_capacity(summary: dict, path: str) -> Optional[str]:
    """Frozen minus fine-tuned AP and APr against the trainable share (the paper's Table 3)."""
    points = [c for c in summary['capacity_curve'] if c['trainable_share'] is not None]
    if not points:
        return None
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for metric, colour, label in (('d_ap', 'tab:blue', 'ΔAP'), ('d_apr', 'tab:red', 'ΔAPr')):
        xs = [100 * c['trainable_share'] for c in points]
        ys = [c[metric]['mean'] for c in points]
        lo = [c[metric]['mean'] - c[metric]['ci95'][0] if c[metric]['ci95'] else 0
              for c in points]
        hi = [c[metric]['ci95'][1] - c[metric]['mean'] if c[metric]['ci95'] else 0
              for c in points]
        ax.errorbar(xs, ys, yerr=[lo, hi], fmt='o-', color=colour, capsize=4,
                    label=f'{label} mini-study (mean, 95% CI)')
    for c in points:  # one label per decoder, under the lower of its two points
        y = min(c['d_ap']['mean'], c['d_apr']['mean'])
        ax.annotate(f'{c["capacity"]} (n={c["d_ap"]["n"]})', (100 * c['trainable_share'], y),
                    fontsize=7, textcoords='offset points', xytext=(6, -12))
    ax.plot([100 * s for _, s, _ in PAPER_TABLE3], [d for _, _, d in PAPER_TABLE3], 's--',
            color='grey', alpha=0.6, label='ΔAP paper, Table 3 (R101, COCO)')
    ax.axhline(0, color='black', linewidth=0.8)
    ax.set_xlabel('trainable parameters when frozen (% of the detector)')
    ax.set_ylabel('frozen − fine-tuned (AP points)')
    ax.set_title('Decoder capacity and the frozen backbone')
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_ap_vs_time(results: Sequence[RunResult], path: str) -> Optional[str]:
    """AP against training wall-clock time, each frozen variant beside its fine-tuned twin."""
    caps = [c for c in CAPACITIES if any(r.variant.capacity == c for r in results)]
    if not caps:
        return None
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(caps), figsize=(4.2 * len(caps), 3.6), squeeze=False)
    for ax, cap in zip(axes[0], caps):
        for mode, colour in (('ft', 'tab:orange'), ('frozen', 'tab:blue'),
                             ('frozen-adapters', 'tab:green'), ('scratch', 'tab:grey')):
            runs = [r for r in results if r.variant.capacity == cap and r.variant.mode == mode
                    and r.curve]
            label = f'{mode} ({len(runs)} seed{"s" * (len(runs) > 1)})'
            for i, r in enumerate(runs):
                xs, ys = zip(*r.curve)
                ax.plot(xs, ys, '.-', color=colour, alpha=0.35 + 0.65 / len(runs),
                        label=label if i == 0 else None)
        ax.set_title(cap)
        ax.set_xlabel('training time (s, validation excluded)')
        ax.set_ylabel('box AP (%)')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle('AP against training time: frozen beside fine-tuned', fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_json(obj: dict, path: str) -> str:
    with open(path, 'w') as f:
        json.dump(obj, f, indent=1, sort_keys=True)
    return path
