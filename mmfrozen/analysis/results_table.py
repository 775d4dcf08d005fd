"""Results tables from mmengine work dirs: the comparison of "Proper Reuse of Image
Classification Features Improves Object Detection" (Vasconcelos et al., CVPR 2022), frozen vs
fine-tuned twins side by side with their training cost.

Reads every run under the given work dirs and writes ``results.md`` (markdown table and notes),
``results.csv``, ``metafile.yml`` (OpenMMLab model-index style) and PNG plots. Console entry
point: ``mmfrozen-results-table``; script: ``tools/analysis/results_table.py``.
"""
import argparse
import csv
import datetime
import glob
import json
import os
import os.path as osp
import platform
import statistics
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .metafile import write_metafile
from .run_log import find_work_dirs, read_work_dir
from .run_summary import METRIC_KEYS, MODE_WORDS, RunSummary, summarize

#: Columns whose twin difference is reported.
DELTA_KEYS = tuple(METRIC_KEYS) + ('best_box_ap',)
#: Keys every entry of a training-cost JSON must have (see tools/analysis/train_cost.py).
COST_KEYS = ('config', 'sec_per_iter', 'peak_memory_mb')
#: ``variant`` values of train_cost.py entries that measure a config as written.
AS_CONFIGURED = ('as-config', 'ft-twin')


def _fmt(value: Optional[float], digits: int = 1, sign: bool = False) -> str:
    if value is None:
        return ''
    return f'{value:+.{digits}f}' if sign else f'{value:.{digits}f}'


def _millions(n: Optional[int]) -> str:
    if n is None:
        return ''
    return f'{n / 1e6:.2f}M' if n >= 1e6 else f'{n / 1e3:.1f}K'


@dataclass
class ResultsTable:
    """Rows of runs (with their twin differences) and what was odd about the logs.

    Attributes:
        rows: One :class:`RunSummary` per run, sorted by config name then run.
        warnings: Every problem met while reading, in words (also written into the notes).
        cost_sources: ``(path, machine, date, torch)`` of each merged training-cost JSON.
    """
    rows: List[RunSummary] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    cost_sources: List[Tuple[str, str, str, str]] = field(default_factory=list)

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
        for work_dir in find_work_dirs(paths, table.warnings):
            for run in read_work_dir(work_dir):
                row, warnings = summarize(run, params=params)
                table._warn(*warnings)
                if row is not None:
                    table.rows.append(row)
        table.rows.sort(key=lambda r: (r.config, r.run.label))
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
        with open(path) as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as exc:
                raise ValueError(f'{path}: not JSON ({exc}); pass the file written by '
                                 'tools/analysis/train_cost.py') from exc
        if not isinstance(data, dict) or not isinstance(data.get('results'), list):
            raise ValueError(f'{path}: a training-cost JSON needs a "results" list (written by '
                             'tools/analysis/train_cost.py)')
        by_config: Dict[str, dict] = {}
        other_variants = 0
        for i, entry in enumerate(data['results']):
            missing = [k for k in COST_KEYS if not isinstance(entry, dict) or k not in entry]
            if missing:
                raise ValueError(f'{path}: results[{i}] lacks {missing}')
            # train_cost.py also measures variants that are not the config as written
            # (stock mmdet freezing, the frozen step's limit, other precisions): not a run's cost
            variant = entry.get('variant', 'as-config')
            if variant not in AS_CONFIGURED:
                other_variants += 1
                continue
            old = by_config.get(entry['config'])
            if old is not None:
                if old.get('variant', 'as-config') == variant:
                    self._warn(f'{path}: several {variant!r} entries for {entry["config"]!r}; '
                               f'using the last (device {entry.get("device")})')
                elif variant != 'as-config':
                    continue  # the config measured directly wins over its twin measurement
            by_config[entry['config']] = entry
        if other_variants:
            self._warn(f'{path}: {other_variants} measurement(s) of other variants (stock '
                       'freezing, limits, precisions) are not runs of a config as written; '
                       'left out of the table')
        self.cost_sources.append((path, str(data.get('machine', '?')),
                                  str(data.get('date', '?')), str(data.get('torch', '?'))))
        configs = {r.config for r in self.rows}
        for name in by_config:
            if name not in configs:
                self._warn(f'{path}: no run of config {name!r}; its cost is not in the table')
        for row in self.rows:
            entry = by_config.get(row.config)
            if entry is None:
                continue
            row.cost = entry
            if entry.get('mode') not in (None, row.mode) and row.mode is not None:
                self._warn(f'{path}: {row.config!r} was measured as mode {entry["mode"]!r} but '
                           f'its run trains {row.mode!r}')
            if row.trainable_params is None and entry.get('trainable_params') is not None:
                row.trainable_params = int(entry['trainable_params'])
            if row.total_params is None and entry.get('total_params') is not None:
                row.total_params = int(entry['total_params'])

    def pair_twins(self) -> None:
        """Set each row's ``twin`` and ``deltas`` (row minus the mean of its twin's runs)."""
        by_config: Dict[str, List[RunSummary]] = {}
        for row in self.rows:
            by_config.setdefault(row.config, []).append(row)
        for config, runs in by_config.items():
            if len(runs) > 1:
                self._warn(f'config {config!r} has {len(runs)} runs '
                           f'({[r.run.label for r in runs]}); each is its own row, and runs '
                           'twinned with it are compared with their mean')
        for row in self.rows:
            if row.name is None or row.name.twin is None:
                continue
            twins = by_config.get(row.name.twin)
            if not twins:
                self._warn(f'{row.run.label}: its twin {row.name.twin!r} is not among the runs; '
                           'no difference reported')
                continue
            row.twin, row.twin_runs = row.name.twin, len(twins)
            for key in DELTA_KEYS:
                mine = row.best_box_ap if key == 'best_box_ap' else row.final.get(key)
                theirs = [t.best_box_ap if key == 'best_box_ap' else t.final.get(key)
                          for t in twins]
                theirs = [v for v in theirs if v is not None]
                row.deltas[key] = (mine - statistics.mean(theirs)
                                   if mine is not None and theirs else None)
            for key in ('sec_per_iter', 'peak_memory_mb'):
                theirs = [t.cost[key] for t in twins if t.cost.get(key)]
                mine = row.cost.get(key)
                row.cost_ratios[key] = (mine / statistics.mean(theirs)
                                        if mine is not None and theirs else None)

    def twin_pairs(self) -> List[Tuple[RunSummary, RunSummary]]:
        """(row, twin row) for every row with a twin; the twin's last run when it has several."""
        pairs = []
        for row in self.rows:
            if row.twin is not None:
                twin = [r for r in self.rows if r.config == row.twin][-1]
                pairs.append((row, twin))
        return pairs

    # -- output --------------------------------------------------------------------------------
    def columns(self, base: str, config_paths: Dict[int, str],
                links: bool) -> List[Tuple[str, Callable[[RunSummary], Any]]]:
        """(header, row -> cell) of every column; markdown drops the all-empty ones."""
        def rel(path: Optional[str]) -> str:
            return osp.relpath(path, base) if path else ''

        def link(text: str, path: Optional[str]) -> str:
            if not path:
                return ''
            return f'[{text}]({rel(path)})' if links else rel(path)

        cols: List[Tuple[str, Callable[[RunSummary], Any]]] = [
            ('Config', lambda r: link(r.config, config_paths.get(id(r))) if id(r) in
             config_paths else r.config),
            ('Detector', lambda r: r.detector),
            ('Backbone', lambda r: r.backbone),
            ('Neck', lambda r: r.neck),
            ('Mode', lambda r: MODE_WORDS.get(r.mode, 'unknown')),
            ('Schedule', lambda r: r.schedule),
            ('Epochs', lambda r: '' if r.run.epochs is None else r.run.epochs),
            ('Iters', lambda r: r.run.iters),
            ('box AP', lambda r: _fmt(r.final.get('box_ap'))),
            ('best box AP', lambda r: '' if r.best_box_ap is None else
             f'{r.best_box_ap:.1f} ({r.best_at})'),
        ]
        for key, header in (('ap50', 'AP50'), ('ap75', 'AP75'), ('aps', 'APs'), ('apm', 'APm'),
                            ('apl', 'APl'), ('mask_ap', 'mask AP'), ('apr', 'APr'),
                            ('apc', 'APc'), ('apf', 'APf')):
            cols.append((header, lambda r, k=key: _fmt(r.final.get(k))))
        for key, header in (('box_ap', 'Δ box AP'), ('best_box_ap', 'Δ best box AP'),
                            ('mask_ap', 'Δ mask AP'), ('apr', 'Δ APr')):
            cols.append((header, lambda r, k=key: _fmt(r.deltas.get(k), sign=True)))
        cols += [
            ('Twin', lambda r: '' if r.twin is None else
             r.twin + (f' (mean of {r.twin_runs} runs)' if r.twin_runs > 1 else '')),
            ('Trainable params', lambda r: _millions(r.trainable_params)),
            ('Total params', lambda r: _millions(r.total_params)),
            ('Peak mem (MB)', lambda r: _fmt(r.peak_memory_mb, 0)),
            ('s/iter', lambda r: _fmt(r.sec_per_iter, 3)),
            ('cost s/iter', lambda r: _fmt(r.cost.get('sec_per_iter'), 3)),
            ('cost s/iter x twin', lambda r: _fmt(r.cost_ratios.get('sec_per_iter'), 2)),
            ('cost peak mem (MB)', lambda r: _fmt(r.cost.get('peak_memory_mb'), 0)),
            ('cost mem x twin', lambda r: _fmt(r.cost_ratios.get('peak_memory_mb'), 2)),
            ('optimizer state (MB)', lambda r: _fmt(r.cost.get('optimizer_state_mb'), 1)),
            ('train GFLOPs/iter', lambda r: '' if r.cost.get('train_flops') is None else
             f'{r.cost["train_flops"] / 1e9:.1f}'),
            ('Log', lambda r: link(r.run.sessions[-1] if r.run.sessions else 'log',
                                   r.run.log_files[-1] if r.run.log_files else None)),
            ('Checkpoint', lambda r: link(osp.basename(r.run.checkpoint or ''),
                                          r.run.checkpoint)),
        ]
        return cols

    def to_markdown(self, base: str = '.', config_paths: Optional[Dict[int, str]] = None,
                    title: str = 'Results', notes: Sequence[str] = (),
                    file_columns: bool = True) -> str:
        """Markdown table (empty columns dropped) followed by numbered notes and warnings.

        Args:
            base: Folder the links are relative to (where the markdown is written).
            config_paths: ``id(row)`` -> config file, linked from the Config column.
            title: Heading.
            notes: Extra numbered notes (hardware, seeds, ...), listed first.
            file_columns: Keep the Log and Checkpoint columns (drop them for a table
                published away from the work dirs).
        """
        cols = self.columns(base, config_paths or {}, links=True)
        if not file_columns:
            cols = [c for c in cols if c[0] not in ('Log', 'Checkpoint')]
        cells = [[str(get(r)) for _, get in cols] for r in self.rows]
        keep = [i for i in range(len(cols)) if any(c[i] for c in cells)]
        lines = [f'# {title}', '',
                 '| ' + ' | '.join(cols[i][0] for i in keep) + ' |',
                 '|' + '|'.join('---' for _ in keep) + '|']
        lines += ['| ' + ' | '.join(c[i] for i in keep) + ' |' for c in cells]
        all_notes = list(notes) + [
            'AP in percent (COCO AP x 100); "box AP" is the last evaluation, "best box AP" the '
            'highest with the epoch (e) or iteration (i) it was reached; Δ = this run minus its '
            'fine-tuned twin (same name with the mode replaced by `ft`).',
            'Mode is read from the dumped config (freeze hook, adapters, pretrained weights), '
            'not from the name. Parameters are counted on the model built from the config; '
            's/iter is the median logged iteration time (first log window left out); peak '
            'memory is logged on CUDA only.',
        ]
        for path, machine, date, torch in self.cost_sources:
            all_notes.append(f'Training cost from `{osp.relpath(path, base)}`: measured on '
                             f'{machine}, {date}, torch {torch}.')
        lines += ['', '## Notes', '']
        lines += [f'{i}. {n}' for i, n in enumerate(all_notes, 1)]
        if self.warnings:
            lines += ['', '## Warnings', '']
            lines += [f'- {w}' for w in self.warnings]
        return '\n'.join(lines) + '\n'

    def write_csv(self, path: str, base: str = '.',
                  config_paths: Optional[Dict[int, str]] = None) -> str:
        """All columns (empty ones too, so the schema is stable), floats to 4 decimals."""
        cols = [('config', lambda r: r.config), ('run', lambda r: r.run.label),
                ('detector', lambda r: r.detector), ('backbone', lambda r: r.backbone),
                ('neck', lambda r: r.neck), ('mode', lambda r: r.mode or ''),
                ('schedule', lambda r: r.schedule), ('epochs', lambda r: r.run.epochs),
                ('iters', lambda r: r.run.iters)]
        cols += [(k, lambda r, k=k: r.final.get(k)) for k in METRIC_KEYS]
        cols += [('best_box_ap', lambda r: r.best_box_ap), ('best_at', lambda r: r.best_at)]
        cols += [(f'delta_{k}', lambda r, k=k: r.deltas.get(k)) for k in DELTA_KEYS]
        cols += [('twin', lambda r: r.twin), ('twin_runs', lambda r: r.twin_runs or None),
                 ('trainable_params', lambda r: r.trainable_params),
                 ('total_params', lambda r: r.total_params),
                 ('peak_memory_mb', lambda r: r.peak_memory_mb),
                 ('sec_per_iter', lambda r: r.sec_per_iter)]
        cols += [(f'cost_{k}', lambda r, k=k: r.cost.get(k))
                 for k in ('device', 'batch_size', 'sec_per_iter', 'peak_memory_mb',
                           'optimizer_state_mb', 'train_flops')]
        cols += [(f'cost_{k}_x_twin', lambda r, k=k: r.cost_ratios.get(k))
                 for k in ('sec_per_iter', 'peak_memory_mb')]
        cols += [('config_path', lambda r: (config_paths or {}).get(id(r), r.run.config_path)),
                 ('log', lambda r: r.run.log_files[-1] if r.run.log_files else None),
                 ('checkpoint', lambda r: r.run.checkpoint)]
        with open(path, 'w', newline='') as f:
            writer = csv.writer(f)
            writer.writerow([c for c, _ in cols])
            for r in self.rows:
                values = [get(r) for _, get in cols]
                writer.writerow(['' if v is None else round(v, 4) if isinstance(v, float) else v
                                 for v in values])
        return path

    def write(self, out_dir: str, config_root: Optional[str] = 'configs', plots: bool = True,
              title: str = 'Results', notes: Sequence[str] = (),
              file_columns: bool = True) -> Dict[str, Any]:
        """Write results.md, results.csv, metafile.yml and (optionally) plots into ``out_dir``.

        Returns:
            Output kind -> path (``plots`` -> list of paths).
        """
        os.makedirs(out_dir, exist_ok=True)
        config_paths = self.find_configs(config_root)
        out: Dict[str, Any] = {}
        if plots:
            from .plots import plot_per_class, plot_twin_curves, plot_twin_deltas
            plot_dir = osp.join(out_dir, 'plots')
            os.makedirs(plot_dir, exist_ok=True)
            pairs = self.twin_pairs()
            out['plots'] = plot_twin_curves(pairs, plot_dir)
            bar = plot_twin_deltas(self.rows, osp.join(plot_dir, 'twin_deltas.png'))
            out['plots'] += [bar] if bar else []
            warnings: List[str] = []
            out['plots'] += plot_per_class(pairs, plot_dir, warnings)
            self._warn(*warnings)
        md = osp.join(out_dir, 'results.md')
        with open(md, 'w') as f:
            f.write(self.to_markdown(out_dir, config_paths, title, notes, file_columns))
        out['markdown'] = md
        out['csv'] = self.write_csv(osp.join(out_dir, 'results.csv'), out_dir, config_paths)
        out['metafile'] = write_metafile(osp.join(out_dir, 'metafile.yml'), self.rows,
                                         config_paths)
        return out

    def find_configs(self, config_root: Optional[str]) -> Dict[int, str]:
        """``id(row)`` -> the config file of the row's name under ``config_root``, if any."""
        found: Dict[int, str] = {}
        if not config_root or not osp.isdir(config_root):
            return found
        index: Dict[str, str] = {}
        for path in glob.glob(osp.join(config_root, '**', '*.py'), recursive=True):
            index.setdefault(osp.splitext(osp.basename(path))[0], path)
        for row in self.rows:
            if row.config in index:
                found[id(row)] = index[row.config]
        return found


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
