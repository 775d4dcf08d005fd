"""Stage 5c: the study's plots (matplotlib, PNG), in the modes' colours of every plot of the
package (:data:`mmfrozen.analysis.results.plots.MODE_COLOURS`)."""
from typing import Optional, Sequence

from ..analysis.results.plots import MODE_COLOURS
from .results import RunResult
from .variants import CAPACITIES

#: The paper's Table 3 (R101, ImageNet): trainable share when frozen, frozen minus fine-tuned AP.
PAPER_TABLE3 = (('FPN', 0.26, -6.5), ('NAS-FPN', 0.40, 0.1), ('NAS-FPN + Cascade', 0.54, 0.7))


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
        drawn = [c for c in points if c[metric]['mean'] is not None]  # undefined: not drawn
        if not drawn:
            continue
        xs = [100 * c['trainable_share'] for c in drawn]
        ys = [c[metric]['mean'] for c in drawn]
        lo = [c[metric]['mean'] - c[metric]['ci95'][0] if c[metric]['ci95'] else 0
              for c in drawn]
        hi = [c[metric]['ci95'][1] - c[metric]['mean'] if c[metric]['ci95'] else 0
              for c in drawn]
        ax.errorbar(xs, ys, yerr=[lo, hi], fmt='o-', color=colour, capsize=4,
                    label=f'{label} mini-study (mean, 95% CI)')
    for c in points:  # one label per decoder, under the lower of its two points
        means = [c[m]['mean'] for m in ('d_ap', 'd_apr') if c[m]['mean'] is not None]
        if not means:
            continue
        y = min(means)
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
        for mode in ('ft', 'frozen', 'frozen-adapters', 'scratch'):
            colour = MODE_COLOURS[mode]
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
