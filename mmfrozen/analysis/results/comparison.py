"""Cross-run comparisons of the results table: a run against its fine-tuned twin, and the
training cost measured for its config (a JSON of the cost tool, :mod:`..cost.train_cost`).

The facts of each run come from :mod:`.run_summary`; nothing here reads a log.
"""
import json
import statistics
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .run_summary import METRIC_KEYS, RunSummary, best_value, divergence, metric_value

#: Columns whose twin difference is reported.
DELTA_KEYS = tuple(METRIC_KEYS) + ('best_box_ap',)
#: Keys every entry of a training-cost JSON must have (see mmfrozen.analysis.cost.train_cost).
COST_KEYS = ('config', 'sec_per_iter', 'peak_memory_mb')
#: ``variant`` values of cost-tool entries that measure a config as written.
AS_CONFIGURED = ('as-config', 'ft-twin')
#: Measured cost values compared with the twin's.
COST_RATIO_KEYS = ('sec_per_iter', 'peak_memory_mb')


@dataclass
class CostFile:
    """The entries of one training-cost JSON that measure a config as written.

    Attributes:
        path: The file.
        machine, date, torch: Where and when it was measured.
        entries: Config stem -> its entry (the config measured directly wins over a twin
            measurement of it).
        warnings: What was left out, in words.
    """
    path: str
    machine: str
    date: str
    torch: str
    entries: Dict[str, dict] = field(default_factory=dict)
    warnings: List[str] = field(default_factory=list)


def read_cost_file(path: str) -> CostFile:
    """Read a training-cost JSON written by the cost tool.

    Raises:
        ValueError: the file is not a training-cost JSON.
    """
    with open(path) as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as exc:
            raise ValueError(f'{path}: not JSON ({exc}); pass the file written by '
                             'mmfrozen-train-cost') from exc
    if not isinstance(data, dict) or not isinstance(data.get('results'), list):
        raise ValueError(f'{path}: a training-cost JSON needs a "results" list (written by '
                         'mmfrozen-train-cost)')
    cost = CostFile(path, str(data.get('machine', '?')), str(data.get('date', '?')),
                    str(data.get('torch', '?')))
    other_variants = 0
    for i, entry in enumerate(data['results']):
        missing = [k for k in COST_KEYS if not isinstance(entry, dict) or k not in entry]
        if missing:
            raise ValueError(f'{path}: results[{i}] lacks {missing}')
        # the cost tool also measures variants that are not the config as written
        # (stock mmdet freezing, the frozen step's limit, other precisions): not a run's cost
        variant = entry.get('variant', 'as-config')
        if variant not in AS_CONFIGURED:
            other_variants += 1
            continue
        old = cost.entries.get(entry['config'])
        if old is not None:
            if old.get('variant', 'as-config') == variant:
                cost.warnings.append(f'{path}: several {variant!r} entries for '
                                     f'{entry["config"]!r}; using the last (device '
                                     f'{entry.get("device")})')
            elif variant != 'as-config':
                continue  # the config measured directly wins over its twin measurement
        cost.entries[entry['config']] = entry
    if other_variants:
        cost.warnings.append(f'{path}: {other_variants} measurement(s) of other variants (stock '
                             'freezing, limits, precisions) are not runs of a config as written; '
                             'left out of the table')
    return cost


@dataclass
class TwinComparison:
    """A run against its fine-tuned twin.

    Attributes:
        twin: Stem of the fine-tuned twin config.
        runs: How many runs of the twin were averaged.
        diverged: How many runs of the twin were left out because they diverged (their loss
            non-finite to the end); all are kept when every run diverged.
        deltas: Column (:data:`DELTA_KEYS`) -> this run minus the twin's run of the same seed
            (``randomness.seed``) when the twin has one (paired: the twins of a seed share the
            data order and the initialisation of the trained layers), else minus the mean of
            the twin's runs.
        paired_seed: The seed the deltas are paired by; None when they are against the mean.
        cost_ratios: Measured s/iter and peak memory of the config divided by the twin's.
    """
    twin: str
    runs: int
    diverged: int = 0
    paired_seed: Optional[int] = None
    deltas: Dict[str, Optional[float]] = field(default_factory=dict)
    cost_ratios: Dict[str, Optional[float]] = field(default_factory=dict)


def _metric(summary: RunSummary, key: str, prefix: Optional[str] = None) -> Optional[float]:
    """A delta column's value of a run, from the evaluator ``prefix`` (default: the run's)."""
    if prefix is None or prefix == summary.metric_prefix:
        return summary.best_box_ap if key == 'best_box_ap' else summary.final.get(key)
    if key == 'best_box_ap':
        best = best_value(summary, 'box_ap', prefix)
        return best[0] if best is not None else None
    return metric_value(summary.run.evals[-1]['metrics'], key, prefix)


def compare_with_twin(summary: RunSummary, cost: Dict[str, Any],
                      twins: Sequence[Tuple[RunSummary, Dict[str, Any]]]) -> TwinComparison:
    """Compare a run (and its config's measured cost) with the runs of its twin.

    Args:
        summary: The run.
        cost: Its config's cost entry ({} when none was merged).
        twins: ``(run, cost entry)`` of every run of the twin config (at least one). Runs
            that diverged are left out of every column when another run did not.
    """
    kept = [t for t in twins if divergence(t[0].run.train) is None] or list(twins)
    same_seed = [t for t in kept if summary.seed is not None and t[0].seed == summary.seed]
    comparison = TwinComparison(twin=twins[0][0].config, runs=len(same_seed or kept),
                                diverged=len(twins) - len(kept),
                                paired_seed=summary.seed if same_seed else None)
    twins = same_seed or kept
    # like for like: the twin's evaluator, when the run has several and that one among them
    theirs = twins[0][0].metric_prefix or (twins[0][0].metric_prefixes or [None])[0]
    prefix = theirs if summary.metric_prefix and theirs in summary.metric_prefixes else None
    for key in DELTA_KEYS:
        mine = _metric(summary, key, prefix)
        theirs = [v for v in (_metric(t, key) for t, _ in twins) if v is not None]
        comparison.deltas[key] = (mine - statistics.mean(theirs)
                                  if mine is not None and theirs else None)
    for key in COST_RATIO_KEYS:
        theirs = [c[key] for _, c in twins if c.get(key)]
        mine = cost.get(key)
        comparison.cost_ratios[key] = (mine / statistics.mean(theirs)
                                       if mine is not None and theirs else None)
    return comparison
