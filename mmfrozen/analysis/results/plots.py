"""Plots of a results table (matplotlib, PNG): twin curves, twin deltas, per-class deltas.

The per-class plot is the paper's per-class figure: the frozen-minus-fine-tuned AP of each
class against the number of training annotations of that class.
"""
import os.path as osp
import re
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

from .run_summary import MODE_WORDS, RunSummary, annotation_counts  # noqa: E402

if TYPE_CHECKING:
    from .row import Row

TwinPair = Tuple[RunSummary, RunSummary]  # (run, its fine-tuned twin)
#: The colour of each mode in every plot of the package (the results table's and the
#: mini-study's); None: a mode the table could not tell.
MODE_COLOURS = {'ft': 'tab:blue', 'frozen': 'tab:orange', 'frozen-adapters': 'tab:green',
                'frozen-lora': 'tab:purple', 'scratch': 'tab:gray', None: 'tab:red'}


def _safe(name: str) -> str:
    return re.sub(r'[^A-Za-z0-9_.-]+', '_', name)


def _file_stem(row: RunSummary) -> str:
    """The config name, plus the run's folder when that is not named after the config."""
    run = row.run.label.rstrip('/').split('/')[-1]
    return _safe(row.config if run == row.config else f'{row.config}__{run}')


def _save(fig, path: str) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _label(row: RunSummary) -> str:
    return f'{row.config} [{MODE_WORDS.get(row.mode, "mode unknown")}]'


def _loss_curve(row: RunSummary) -> List[Tuple[float, float]]:
    """(epoch, or iteration when not epoch-based, loss) of the training records."""
    points = []
    per_epoch = None
    if row.run.epochs:
        per_epoch = max(r['iter'] for r in row.run.train) / row.run.epochs
    for r in row.run.train:
        if isinstance(r.get('loss'), (int, float)):
            x = r['iter'] / per_epoch if per_epoch else r['iter']
            points.append((x, float(r['loss'])))
    return points


def plot_twin_curves(pairs: List[TwinPair], out_dir: str) -> List[str]:
    """One PNG per twin pair: AP at every evaluation and training loss, both runs overlaid."""
    paths = []
    for row, twin in pairs:
        fig, (ax_ap, ax_loss) = plt.subplots(1, 2, figsize=(10, 4))
        by_epoch = row.run.epochs is not None and twin.run.epochs is not None
        for r in (twin, row):
            colour = MODE_COLOURS.get(r.mode, 'tab:red')
            for key, style in (('box_ap', '-o'), ('mask_ap', '--s')):
                points = r.curve(key)
                if points:
                    ax_ap.plot(*zip(*points), style, color=colour,
                               label=f'{"box" if key == "box_ap" else "mask"} AP, '
                                     f'{MODE_WORDS.get(r.mode, "?")}')
            loss = _loss_curve(r)
            if loss:
                ax_loss.plot(*zip(*loss), color=colour, label=_label(r))
        xlabel = 'epoch' if by_epoch else 'iteration'
        ax_ap.set(xlabel=xlabel, ylabel='AP (%)', title='validation AP')
        ax_loss.set(xlabel=xlabel, ylabel='loss', title='training loss')
        ax_ap.legend(fontsize=8)
        ax_loss.legend(fontsize=7)
        fig.suptitle(f'{row.config} vs {twin.config}', fontsize=9)
        paths.append(_save(fig, osp.join(out_dir, f'curves_{_file_stem(row)}.png')))
    return paths


def plot_twin_deltas(rows: List['Row'], path: str) -> Optional[str]:
    """Bar chart of final box AP minus the fine-tuned twin's, one bar per run with a twin."""
    values = [r.twin.deltas.get('box_ap') if r.twin else None for r in rows]
    bars = [r.summary for r, v in zip(rows, values) if v is not None]
    values = [v for v in values if v is not None]
    if not bars:
        return None
    fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(bars) + 2), 4))
    ax.bar(range(len(bars)), values, width=0.6,
           color=[MODE_COLOURS.get(r.mode, 'tab:red') for r in bars])
    ax.set_xlim(-1, len(bars))
    for i, v in enumerate(values):
        ax.annotate(f'{v:+.1f}', (i, v), ha='center', va='bottom' if v >= 0 else 'top',
                    fontsize=8)
    ax.axhline(0, color='black', linewidth=0.8)
    ax.set_xticks(range(len(bars)))
    ax.set_xticklabels([f'{r.config}\n({MODE_WORDS.get(r.mode, "?")})' for r in bars],
                       rotation=20, ha='right', fontsize=7)
    ax.set_ylabel('box AP minus fine-tuned twin (points)')
    ax.set_title('final box AP minus the fine-tuned twin', fontsize=10)
    return _save(fig, path)


def per_class_deltas(row: RunSummary, twin: RunSummary,
                     warnings: List[str]) -> Optional[List[Tuple[str, int, float]]]:
    """(class, training annotations, AP minus the twin's AP) for every class both evaluated."""
    if not row.per_class or not twin.per_class:
        return None
    if row.per_class_metric != twin.per_class_metric:
        warnings.append(f'{row.run.label}: per-class AP is {row.per_class_metric} but the '
                        f'twin\'s is {twin.per_class_metric}; no per-class plot')
        return None
    ann = row.train_ann_file or twin.train_ann_file
    if ann is None or not osp.isfile(ann):
        warnings.append(f'{row.run.label}: the training annotation file {ann!r} named in the '
                        'config is not readable here; no per-class plot (it needs the number '
                        'of training annotations per class)')
        return None
    counts: Dict[str, int] = annotation_counts(ann)
    out = []
    missing = []
    for name, ap in row.per_class.items():
        if name in twin.per_class and name in counts:
            out.append((name, counts[name], ap - twin.per_class[name]))
        else:
            missing.append(name)
    if missing:
        warnings.append(f'{row.run.label}: classes {missing[:10]} lack a twin AP or a training '
                        'count; left out of the per-class plot')
    return out or None


def plot_per_class(pairs: List[TwinPair], out_dir: str, warnings: List[str]) -> List[str]:
    """Per twin pair with class-wise results: per-class AP delta vs training annotations."""
    paths = []
    for row, twin in pairs:
        points = per_class_deltas(row, twin, warnings)
        if not points:
            continue
        fig, ax = plt.subplots(figsize=(6, 4))
        xs = [max(n, 1) for _, n, _ in points]
        ys = [d for _, _, d in points]
        ax.scatter(xs, ys, color=MODE_COLOURS.get(row.mode, 'tab:red'))
        if len(points) <= 30:
            for (name, _, d), x in zip(points, xs):
                ax.annotate(name, (x, d), fontsize=7, xytext=(3, 3), textcoords='offset points')
        ax.axhline(0, color='black', linewidth=0.8)
        if max(xs) / min(xs) > 20:
            ax.set_xscale('log')
        ax.set_xlabel('training annotations of the class')
        ax.set_ylabel(f'{row.per_class_metric} AP minus fine-tuned (points)')
        ax.set_title(f'{row.config}\nper class, {MODE_WORDS.get(row.mode, "?")} minus '
                     'fine-tuned', fontsize=9)
        paths.append(_save(fig, osp.join(out_dir, f'per_class_{_file_stem(row)}.png')))
    return paths


__all__ = ['MODE_COLOURS', 'plot_twin_curves', 'plot_twin_deltas', 'plot_per_class', 'per_class_deltas']
