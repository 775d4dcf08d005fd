"""Stage 5b: the study's summary as markdown and console lines, and as JSON."""
import json
from typing import Any, Dict, List, Optional, Sequence

from .claims import LARGE
from .results import METRICS

def _num(value: Optional[float], digits: int = 1, sign: bool = False) -> str:
    if value is None:
        return 'n/a'
    return f'{value:+.{digits}f}' if sign else f'{value:.{digits}f}'


def _pm(mean: Optional[float], std: Optional[float], digits: int = 1, sign=False) -> str:
    return _num(mean, digits, sign) + (f' ± {std:.{digits}f}' if std is not None else '')


def _ci(ci: Optional[Sequence[float]], digits: int = 1) -> str:
    return f'[{ci[0]:+.{digits}f}, {ci[1]:+.{digits}f}]' if ci else 'n/a (fewer than 2 replicates)'


def _g(value: Any) -> str:
    return 'n/a' if value is None else f'{value:g}'


#: How a run trained, in words, field by field (:func:`.detectors.trained_schedule`).
_TRAINED_WORDS = (
    ('max_iters', lambda v: f'{v} iterations'), ('batch_size', lambda v: f'of {v} images'),
    ('images', lambda v: f'({v} images seen)'), ('warmup_iters', lambda v: f'warm-up {v}'),
    ('val_interval', lambda v: f'a validation every {v}'), ('lr', lambda v: f'lr {_g(v)}'),
    ('backbone_lr_mult', lambda v: 'no backbone lr multiplier' if v is None else
     f'backbone lr {_g(v)}x'), ('score_thr', lambda v: f'score threshold {_g(v)}'))
_BUDGET = ('max_iters', 'batch_size', 'images')


def _phrase(trained: Dict[str, Any], keys: Sequence[str]) -> str:
    """Fields ``keys`` of one run's :func:`.detectors.trained_schedule`, in words."""
    named = dict(_TRAINED_WORDS)
    budget = ' '.join(named[k](trained.get(k)) for k in _BUDGET if k in keys)
    rest = [named[k](trained.get(k)) for k, _ in _TRAINED_WORDS if k in keys and k not in _BUDGET]
    return ', '.join(([budget] if budget else []) + rest)


def trained_words(trained: Dict[str, Dict[str, Any]]) -> str:
    """How the runs trained (variant -> :func:`.detectors.trained_schedule`), in words: what
    every variant shares, then what differs, with the variants of each value."""
    if not trained:
        return 'no run trained'
    values = list(trained.values())

    def same(k: str) -> bool:
        return all(v.get(k) == values[0].get(k) for v in values)
    budget_shared = all(same(k) for k in _BUDGET)  # iterations x batch, said as one phrase
    shared = [k for k, _ in _TRAINED_WORDS if same(k) and (k not in _BUDGET or budget_shared)]
    differing = [k for k, _ in _TRAINED_WORDS if k not in shared]
    groups: Dict[str, List[str]] = {}
    for key, t in trained.items():
        if differing:
            groups.setdefault(_phrase(t, differing), []).append(key)
    text = _phrase(values[0], shared)
    if groups:
        text += ('; ' if text else '') + '; '.join(
            f'{words} ({", ".join(keys)})' for words, keys in groups.items())
    return text


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


def write_json(obj: dict, path: str) -> str:
    with open(path, 'w') as f:
        json.dump(obj, f, indent=1, sort_keys=True)
    return path
