"""The mini-study's summary: mean and spread over seeds, twin differences, cost ratios, plot.

The three claims of "Proper Reuse of Image Classification Features Improves Object Detection"
(Vasconcelos et al., CVPR 2022) checked here: a frozen backbone trains cheaper; decoder capacity
decides whether frozen matches fine-tuning; rare classes gain most.
"""
import json
import statistics
from typing import Dict, List, Optional, Sequence

from .variants import HEADLINE, VARIANTS

#: Reported metrics: summary name -> key logged by CocoFrequencyMetric (fractions of 1).
METRICS = {'AP': 'coco/bbox_mAP', 'AP50': 'coco/bbox_mAP_50', 'APr': 'coco/bbox_APr',
           'APc': 'coco/bbox_APc', 'APf': 'coco/bbox_APf'}
#: (frozen-side variant, fine-tuned twin) pairs compared in the summary.
PAIRS = (('frozen', 'ft'), ('frozen-capacity', 'ft-capacity'), ('frozen-adapters', 'ft'),
         ('scratch', 'ft'))


def _stats(values: Sequence[float]) -> Dict[str, Optional[float]]:
    vals = [v for v in values if v is not None]
    if not vals:
        return dict(mean=None, std=None, n=0)
    return dict(mean=statistics.mean(vals), std=statistics.stdev(vals) if len(vals) > 1 else None,
                n=len(vals), min=min(vals), max=max(vals))


def _percent(metrics: Dict[str, float], key: str) -> Optional[float]:
    value = metrics.get(key)
    if value is None or value < 0:  # COCO's -1: no instance of the bucket
        return None
    return 100.0 * value


def summarize(records: List[dict], cost: Optional[dict] = None) -> dict:
    """Aggregate the study's run records (``variant``, ``seed``, ``metrics``) and cost JSON.

    Returns:
        ``{'variants': {key: {metric: stats}}, 'pairs': [...], 'cost': {...}}``; AP in percent;
        a pair's difference is taken seed by seed where both sides ran the seed, else between
        the means.
    """
    by_variant: Dict[str, List[dict]] = {}
    for r in records:
        by_variant.setdefault(r['variant'], []).append(r)
    variants = {}
    for v in VARIANTS:
        runs = by_variant.get(v.key, [])
        if runs:
            variants[v.key] = dict(config=v.stem, seeds=sorted(r['seed'] for r in runs), **{
                name: _stats([_percent(r['metrics'], key) for r in runs])
                for name, key in METRICS.items()})
    pairs = []
    for a, b in PAIRS:
        if a not in by_variant or b not in by_variant:
            continue
        ra = {r['seed']: r for r in by_variant[a]}
        rb = {r['seed']: r for r in by_variant[b]}
        common = sorted(set(ra) & set(rb))
        diff = {}
        for name, key in METRICS.items():
            if len(common) > 1:
                d = [(_percent(ra[s]['metrics'], key), _percent(rb[s]['metrics'], key))
                     for s in common]
                diff[name] = _stats([x - y for x, y in d if x is not None and y is not None])
            else:
                ma, mb = variants[a][name]['mean'], variants[b][name]['mean']
                diff[name] = dict(mean=None if ma is None or mb is None else ma - mb, std=None,
                                  n=1)
        pairs.append(dict(variant=a, twin=b, seeds=common, diff=diff))
    return dict(variants=variants, pairs=pairs, cost=_cost_ratios(cost) if cost else {})


def _cost_ratios(cost: dict) -> dict:
    by_config = {e['config']: e for e in cost.get('results', []) if e.get('label', 'as-config')
                 in ('as-config', None)}
    out = {}
    stems = {v.key: v.stem for v in VARIANTS}
    for a, b in PAIRS[:2]:
        ea, eb = by_config.get(stems[a]), by_config.get(stems[b])
        if not ea or not eb:
            continue
        entry = dict(variant=a, twin=b)
        for key in ('sec_per_iter', 'peak_memory_mb', 'trainable_params', 'optimizer_state_mb',
                    'train_flops'):
            va, vb = ea.get(key), eb.get(key)
            entry[key] = [va, vb]
            entry[f'{key}_ratio'] = va / vb if va is not None and vb else None
        out[f'{a}/{b}'] = entry
    return out


def _pm(s: Dict[str, Optional[float]], sign: bool = False) -> str:
    if s.get('mean') is None:
        return 'n/a'
    text = f'{s["mean"]:+.1f}' if sign else f'{s["mean"]:.1f}'
    return text + (f' ± {s["std"]:.1f}' if s.get('std') is not None else '')


def markdown(summary: dict, header: Sequence[str] = ()) -> str:
    """The summary as markdown: per-variant table, twin differences, cost ratios."""
    lines = list(header)
    lines += ['| variant | config | seeds | ' + ' | '.join(METRICS) + ' |',
              '|---|---|---|' + '---|' * len(METRICS)]
    for key, v in summary['variants'].items():
        lines.append(f'| {key} | `{v["config"]}` | {len(v["seeds"])} | '
                     + ' | '.join(_pm(v[m]) for m in METRICS) + ' |')
    lines += ['', 'Twin differences (variant minus its fine-tuned twin; mean ± sample std over '
              'seeds when both ran several seeds):', '',
              '| variant − twin | seeds | ' + ' | '.join(f'Δ{m}' for m in METRICS) + ' |',
              '|---|---|' + '---|' * len(METRICS)]
    for p in summary['pairs']:
        lines.append(f'| {p["variant"]} − {p["twin"]} | {len(p["seeds"]) or 1} | '
                     + ' | '.join(_pm(p['diff'][m], sign=True) for m in METRICS) + ' |')
    if summary['cost']:
        lines += ['', 'Training cost of one step, frozen / fine-tuned twin (train-cost tool):',
                  '', '| pair | s/iter | peak memory | trainable params | optimizer state | '
                  'train FLOPs |', '|---|---|---|---|---|---|']
        for name, c in summary['cost'].items():
            cells = []
            for key in ('sec_per_iter', 'peak_memory_mb', 'trainable_params',
                        'optimizer_state_mb', 'train_flops'):
                r = c.get(f'{key}_ratio')
                cells.append('n/a' if r is None else f'{r:.2f}x')
            lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def headline_lines(summary: dict) -> List[str]:
    """Short plain-text comparisons for the console, one per claim."""
    out = []
    cost = summary['cost'].get('frozen/ft')
    if cost:
        def r(key):
            v = cost.get(f'{key}_ratio')
            return 'n/a' if v is None else f'{v:.2f}x'
        out.append(f'1. cost, frozen vs fine-tuned (small FPN): s/iter {r("sec_per_iter")}, '
                   f'trainable params {r("trainable_params")}, optimizer state '
                   f'{r("optimizer_state_mb")}, train FLOPs {r("train_flops")}')
    pairs = {(p['variant'], p['twin']): p for p in summary['pairs']}
    caps = [pairs.get(('frozen', 'ft')), pairs.get(('frozen-capacity', 'ft-capacity'))]
    if all(caps):
        out.append('2. capacity, ΔAP frozen − fine-tuned: small FPN '
                   f'{_pm(caps[0]["diff"]["AP"], True)}, bigger decoder '
                   f'{_pm(caps[1]["diff"]["AP"], True)}')
    head = pairs.get(HEADLINE[::-1])
    if head:
        d = head['diff']
        out.append(f'3. rare classes, {HEADLINE[1]} − {HEADLINE[0]}: '
                   f'ΔAPr {_pm(d["APr"], True)}, ΔAPc {_pm(d["APc"], True)}, '
                   f'ΔAPf {_pm(d["APf"], True)}')
    return out


def plot_overview(summary: dict, path: str, title: str = '') -> str:
    """Bar chart of AP, APr, APc and APf per variant, mean with min-max over seeds."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np
    names = list(summary['variants'])
    metrics = ['AP', 'APr', 'APc', 'APf']
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / len(names)
    x = np.arange(len(metrics))
    for i, key in enumerate(names):
        v = summary['variants'][key]
        means = [v[m]['mean'] if v[m]['mean'] is not None else 0.0 for m in metrics]
        lo = [means[j] - (v[m].get('min', means[j]) or 0) for j, m in enumerate(metrics)]
        hi = [(v[m].get('max', means[j]) or 0) - means[j] for j, m in enumerate(metrics)]
        ax.bar(x + (i - (len(names) - 1) / 2) * width, means, width,
               label=f'{key} (n={len(v["seeds"])})', yerr=[lo, hi], capsize=2)
    ax.set_xticks(x)
    ax.set_xticklabels(['box AP', 'AP rare', 'AP common', 'AP frequent'])
    ax.set_ylabel('AP (%)')
    ax.set_title(title or 'mini-study: box AP by variant (mean, min-max over seeds)')
    ax.legend(fontsize=8, ncol=2)
    ax.grid(axis='y', alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_json(obj: dict, path: str) -> str:
    with open(path, 'w') as f:
        json.dump(obj, f, indent=1, sort_keys=True)
    return path
