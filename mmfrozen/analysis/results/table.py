"""Results tables from mmengine work dirs: the comparison of "Proper Reuse of Image
Classification Features Improves Object Detection" (Vasconcelos et al., CVPR 2022), frozen vs
fine-tuned twins side by side with their training cost.

Reads every run under the given work dirs and writes ``results.md`` (markdown table and notes),
``results.csv``, ``metafile.yml`` (OpenMMLab model-index style) and PNG plots. Console entry
point: ``mmfrozen-results-table``; script: ``tools/analysis/results_table.py``.
"""
import argparse
import datetime
import glob
import os
import os.path as osp
import platform
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .columns import markdown_table, write_csv
from .comparison import CostFile, compare_with_twin, read_cost_file
from .metafile import write_metafile
from .run_log import config_difference, find_work_dirs, read_work_dir
from .row import Row
from .run_summary import RunSummary, summarize
from .sweep_runs import split_sweep_run


def _not_repeats(runs: Sequence[Row]) -> List[str]:
    """Top-level config keys (but the seed, ``randomness``) in which the dumped configs of
    ``runs`` differ from the first's: empty when they are repeats of one experiment."""
    first = runs[0].summary.run.config_path
    return sorted({k for r in runs[1:] for k in config_difference(
        first, r.summary.run.config_path)[0] if k != 'randomness'})


def _same_point(a: Optional[Tuple[str, int]], b: Optional[Tuple[str, int]]) -> bool:
    """Whether two runs were last evaluated at one point of training (either without an
    evaluation: nothing to compare, nothing wrong)."""
    return a is None or b is None or a == b


def _at_words(at: Optional[Tuple[str, int]]) -> str:
    return 'no evaluation' if at is None else f'{at[0]} {at[1]}'


def _budget_words(summary: RunSummary) -> str:
    """A run's training length and batch in words (see :attr:`RunSummary.budget`)."""
    by_epoch, epochs, iters, batch = summary.budget
    length = f'{epochs} epochs' if by_epoch else f'{iters} iterations'
    return f'{length} of {batch} images per GPU' if batch else length


@dataclass
class ResultsTable:
    """Rows of runs (with their twin comparisons) and what was odd about the logs.

    Attributes:
        rows: One :class:`Row` per run, sorted by config name then run.
        warnings: Every problem met while reading, in words (also written into the notes).
        costs: The merged training-cost JSONs.
    """
    rows: List[Row] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    costs: List[CostFile] = field(default_factory=list)

    # -- building ------------------------------------------------------------------------------
    @classmethod
    def from_work_dirs(cls, paths: Sequence[str], cost_files: Sequence[str] = (),
                       params: bool = True) -> 'ResultsTable':
        """Read all runs under ``paths``, merge cost JSONs and pair twins.

        Args:
            paths: Work dirs, or folders holding work dirs (e.g. ``work_dirs/``).
            cost_files: Training-cost JSONs to merge by config name.
            params: Count parameters by building each model from its dumped config.
        """
        table = cls()
        configs: Dict[str, Any] = {}  # each config built once, what is odd about it said once
        for work_dir in find_work_dirs(paths, table.warnings):
            for logged in read_work_dir(work_dir):
                runs, warnings = split_sweep_run(logged)  # a sweep: one run per member
                table._warn(*warnings)
                for run, cfg in runs:
                    summary, warnings = summarize(run, params=params, cfg=cfg, configs=configs)
                    table._warn(*warnings)
                    if summary is not None:
                        table.rows.append(Row(summary))
        table.rows.sort(key=lambda r: (r.summary.config, r.summary.run.label))
        for path in cost_files:
            table.merge_cost(path)
        table.pair_twins()
        return table

    def _warn(self, *messages: str) -> None:
        for m in messages:
            if m not in self.warnings:
                self.warnings.append(m)

    def merge_cost(self, path: str) -> None:
        """Attach the entries of a training-cost JSON to the rows of the same config.

        Raises:
            ValueError: the file is not a training-cost JSON.
        """
        cost = read_cost_file(path)
        self._warn(*cost.warnings)
        self.costs.append(cost)
        configs = {r.summary.config for r in self.rows}
        for name in cost.entries:
            if name not in configs:
                self._warn(f'{path}: no run of config {name!r}; its cost is not in the table')
        for row in self.rows:
            entry = cost.entries.get(row.summary.config)
            if entry is None:
                continue
            row.cost = entry
            mode = row.summary.mode
            if entry.get('mode') not in (None, mode) and mode is not None:
                self._warn(f'{path}: {row.summary.config!r} was measured as mode '
                           f'{entry["mode"]!r} but its run trains {mode!r}')

    def pair_twins(self) -> None:
        """Set each row's ``twin``: the row against its twin's run of the same seed, else
        against the mean of its twin's runs; only the twin's runs on the row's training data
        (annotation file) count."""
        by_config: Dict[str, List[Row]] = {}
        for row in self.rows:
            by_config.setdefault(row.summary.config, []).append(row)
        for config, runs in by_config.items():
            if len(runs) > 1:
                self._warn(f'config {config!r} has {len(runs)} runs '
                           f'({[r.summary.run.label for r in runs]}); each is its own row, and '
                           'runs twinned with it are compared with its run of the same seed, '
                           'or with their mean when none has that seed')
            by_data: Dict[Optional[str], List[Row]] = {}
            for r in runs:
                by_data.setdefault(r.summary.train_ann_file, []).append(r)
            for data, group in by_data.items():
                differ = _not_repeats(group)
                if differ:
                    on = f' on {data}' if len(by_data) > 1 else ''
                    self._warn(f'config {config!r}: its runs{on} are not repeats of one '
                               f'experiment: their dumped configs differ in {differ} (e.g. '
                               '--cfg-options); runs twinned with it get no difference, as a '
                               'mean of different experiments is none of them. Give each '
                               'variant its own config name')
        for row in self.rows:
            name = row.summary.name
            if name is None or name.twin is None:
                continue
            twins = by_config.get(name.twin)
            if not twins:
                self._warn(f'{row.summary.run.label}: its twin {name.twin!r} is not among the '
                           'runs; no difference reported')
                continue
            # a twin trained on another training set (another world, another split) is no
            # twin of this run, whatever its seed
            data = row.summary.train_ann_file
            same_data = [t for t in twins if data is None or t.summary.train_ann_file is None
                         or t.summary.train_ann_file == data]
            if not same_data:
                self._warn(f'{row.summary.run.label}: every run of its twin {name.twin!r} '
                           f'trained on other training data '
                           f'({sorted({t.summary.train_ann_file for t in twins})}, this run '
                           f'{data!r}); no difference reported')
                continue
            # frozen and fine-tuned are compared at one training budget (the paper's twins):
            # a twin run for another length or batch (--cfg-options) is no twin of this run
            unknown = [s.run.label for s in [row.summary] + [t.summary for t in same_data]
                       if s.budget is None]
            if unknown:
                self._warn(f'{row.summary.run.label}: the training budget of {unknown} is '
                           'unknown (no dumped config, or a loop of an unknown type); no '
                           'difference reported: twins are compared only at a known, equal '
                           'schedule and batch')
                continue
            same_budget = [t for t in same_data if t.summary.budget == row.summary.budget]
            if not same_budget:
                self._warn(f'{row.summary.run.label}: every run of its twin {name.twin!r} '
                           f'trained another budget ({_budget_words(same_data[0].summary)}; '
                           f'this run {_budget_words(row.summary)}); no difference reported: '
                           'twins are compared at one schedule and batch')
                continue
            # ... and where both were last evaluated (a run stopped early, or still training,
            # is no twin of a finished one; a run without evaluation has no AP to compare)
            at = row.summary.evaluated_at
            same_budget = [t for t in same_budget if _same_point(at, t.summary.evaluated_at)]
            if not same_budget:
                theirs = sorted({_at_words(t.summary.evaluated_at) for t in same_data})
                self._warn(f'{row.summary.run.label}: last evaluated at {_at_words(at)}, the '
                           f'runs of its twin {name.twin!r} at {", ".join(theirs)} (one of '
                           'them stopped early or is still training); no difference reported')
                continue
            differ = _not_repeats(same_budget)
            if differ:
                self._warn(f'{row.summary.run.label}: the runs of its twin {name.twin!r} differ '
                           f'in {differ}; no difference reported')
                continue
            row.twin = compare_with_twin(row.summary, row.cost,
                                         [(t.summary, t.cost) for t in same_budget])
            row.twin_rows = same_budget

    def twin_pairs(self) -> List[Tuple[Row, Row]]:
        """(row, twin row) for every row with a twin: the twin's run its difference is taken
        against (one of the runs :meth:`pair_twins` compared it with, of the same seed); the
        last of them when the difference is against the mean of several."""
        pairs = []
        for row in self.rows:
            if row.twin is None:
                continue
            same_seed = [r for r in row.twin_rows if row.twin.paired_seed is not None
                         and r.summary.seed == row.twin.paired_seed]
            pairs.append((row, (same_seed or row.twin_rows)[-1]))
        return pairs

    def find_configs(self, config_root: Optional[str]) -> None:
        """Set each row's ``config_file``: the file of its config name under ``config_root``."""
        if not config_root or not osp.isdir(config_root):
            return
        index: Dict[str, str] = {}
        for path in glob.glob(osp.join(config_root, '**', '*.py'), recursive=True):
            index.setdefault(osp.splitext(osp.basename(path))[0], path)
        for row in self.rows:
            row.config_file = index.get(row.summary.config)

    # -- output --------------------------------------------------------------------------------
    def to_markdown(self, base: str = '.', title: str = 'Results', notes: Sequence[str] = (),
                    file_columns: bool = True) -> str:
        """Markdown table (empty columns dropped) followed by numbered notes and warnings.

        Args:
            base: Folder the links are relative to (where the markdown is written).
            title: Heading.
            notes: Extra numbered notes (hardware, seeds, ...), listed first.
            file_columns: Keep the Log and Checkpoint columns (drop them for a table
                published away from the work dirs).
        """
        lines = [f'# {title}', ''] + markdown_table(self.rows, base, file_columns)
        all_notes = list(notes) + [
            'AP in percent (COCO AP x 100); "box AP" is the last evaluation, "best box AP" the '
            'highest with the epoch (e) or iteration (i) it was reached; Δ = this run minus its '
            'fine-tuned twin (same name with the mode replaced by `ft`).',
            'Mode is read from the dumped config (freeze hook, adapters, pretrained weights), '
            'not from the name. Parameters are counted on the model built from the config; '
            's/iter is the median logged iteration time (first log window left out); peak '
            'memory is logged on CUDA only.',
        ]
        for cost in self.costs:
            all_notes.append(f'Training cost from `{osp.relpath(cost.path, base)}`: measured on '
                             f'{cost.machine}, {cost.date}, torch {cost.torch}.')
        lines += ['', '## Notes', '']
        lines += [f'{i}. {n}' for i, n in enumerate(all_notes, 1)]
        if self.warnings:
            lines += ['', '## Warnings', '']
            lines += [f'- {w}' for w in self.warnings]
        return '\n'.join(lines) + '\n'

    def write(self, out_dir: str, config_root: Optional[str] = 'configs', plots: bool = True,
              title: str = 'Results', notes: Sequence[str] = (),
              file_columns: bool = True) -> Dict[str, Any]:
        """Write results.md, results.csv, metafile.yml and (optionally) plots into ``out_dir``.

        Args:
            config_root: Folder searched for the configs named by the runs (Config column,
                metafile); None: link none.

        Returns:
            Output kind -> path (``plots`` -> list of paths).
        """
        os.makedirs(out_dir, exist_ok=True)
        self.find_configs(config_root)
        out: Dict[str, Any] = {}
        if plots:
            from .plots import plot_per_class, plot_twin_curves, plot_twin_deltas
            plot_dir = osp.join(out_dir, 'plots')
            os.makedirs(plot_dir, exist_ok=True)
            pairs = [(row.summary, twin.summary) for row, twin in self.twin_pairs()]
            out['plots'] = plot_twin_curves(pairs, plot_dir)
            bar = plot_twin_deltas(self.rows, osp.join(plot_dir, 'twin_deltas.png'))
            out['plots'] += [bar] if bar else []
            warnings: List[str] = []
            out['plots'] += plot_per_class(pairs, plot_dir, warnings)
            self._warn(*warnings)
        md = osp.join(out_dir, 'results.md')
        with open(md, 'w') as f:
            f.write(self.to_markdown(out_dir, title, notes, file_columns))
        out['markdown'] = md
        out['csv'] = write_csv(self.rows, osp.join(out_dir, 'results.csv'))
        out['metafile'] = write_metafile(osp.join(out_dir, 'metafile.yml'), self.rows)
        return out


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line arguments of the tool (``argv`` defaults to ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(
        description='Results table (markdown, CSV), metafile.yml and plots from mmengine work '
                    'dirs; frozen and other runs are compared with their fine-tuned twins.')
    parser.add_argument('work_dirs', nargs='+',
                        help='work dirs, or folders of work dirs (e.g. work_dirs/)')
    parser.add_argument('--out-dir', default='results', help='where to write (default: results)')
    parser.add_argument('--cost', action='append', default=[], metavar='COST_JSON',
                        help='training-cost JSON from tools/analysis/train_cost.py, merged by '
                             'config name (repeatable)')
    parser.add_argument('--config-root', default='configs',
                        help='folder searched for the configs named by the runs, for the '
                             'Config column and metafile (default: configs)')
    parser.add_argument('--title', default='Results', help='heading of results.md')
    parser.add_argument('--note', action='append', default=[],
                        help='extra numbered note for results.md (hardware, seeds; repeatable)')
    parser.add_argument('--no-plots', action='store_true', help='skip the PNG plots')
    parser.add_argument('--no-file-columns', action='store_true',
                        help='leave the Log and Checkpoint columns out of results.md (for a '
                             'table published away from the work dirs; the CSV keeps them)')
    parser.add_argument('--no-params', action='store_true',
                        help='do not build the models to count parameters')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Console entry point; returns 1 when no usable run was found."""
    args = parse_args(argv)
    try:
        table = ResultsTable.from_work_dirs(args.work_dirs, args.cost,
                                            params=not args.no_params)
    except (FileNotFoundError, ValueError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    for w in table.warnings:
        print(f'warning: {w}', file=sys.stderr)
    if not table.rows:
        print(f'error: no usable run found under {args.work_dirs} (see the warnings above); '
              'nothing written', file=sys.stderr)
        return 1
    notes = list(args.note) + [
        f'Generated by mmfrozen-results-table on {datetime.date.today().isoformat()} '
        f'({platform.machine()}, Python {platform.python_version()}).']
    printed = len(table.warnings)
    out = table.write(args.out_dir, args.config_root, plots=not args.no_plots,
                      title=args.title, notes=notes, file_columns=not args.no_file_columns)
    for w in table.warnings[printed:]:
        print(f'warning: {w}', file=sys.stderr)
    print(f'{len(table.rows)} runs -> {out["markdown"]}, {out["csv"]}, {out["metafile"]}'
          + (f', {len(out["plots"])} plots in {osp.join(args.out_dir, "plots")}'
             if 'plots' in out else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
