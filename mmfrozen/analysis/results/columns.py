"""The columns of the results table, declared once and rendered to markdown and to CSV.

Each :class:`Column` names its CSV field, its markdown header (either may be absent: the CSV
keeps raw values the markdown folds into another cell) and how to read its value from a row.
The markdown drops columns that are empty for every row; the CSV keeps all of them, so its
schema is stable.
"""
import csv
import os.path as osp
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Sequence, Tuple

from .run_summary import METRIC_KEYS, MODE_WORDS

if TYPE_CHECKING:
    from .row import Row

#: ``link(text, path)``: a markdown link (or the bare relative path) to a file, '' without one.
Link = Callable[[str, Optional[str]], str]


@dataclass(frozen=True)
class Column:
    """One column of the table.

    Attributes:
        header: Markdown header; None for a CSV-only field.
        key: CSV field name; None for a markdown-only column.
        value: Row -> raw value (what the CSV holds; None is an empty cell).
        text: (row, link) -> markdown cell; default: :func:`plain` of the value.
    """
    header: Optional[str]
    key: Optional[str]
    value: Callable[['Row'], Any]
    text: Optional[Callable[['Row', Link], str]] = None

    def markdown(self, row: 'Row', link: Link) -> str:
        """The markdown cell of ``row``."""
        return self.text(row, link) if self.text is not None else plain(self.value(row))


def plain(value: Any) -> str:
    """The markdown cell of a raw value: '' for None."""
    return '' if value is None else str(value)


def number(value: Callable[['Row'], Optional[float]], digits: int = 1, sign: bool = False,
           unit: float = 1.0) -> Callable[['Row', Link], str]:
    """A markdown cell showing ``value / unit`` with ``digits`` decimals."""
    def text(row: 'Row', link: Link) -> str:
        v = value(row)
        if v is None:
            return ''
        return f'{v / unit:+.{digits}f}' if sign else f'{v / unit:.{digits}f}'
    return text


def millions(value: Callable[['Row'], Optional[int]]) -> Callable[['Row', Link], str]:
    """A markdown cell showing a parameter count as ``12.34M`` or ``56.7K``."""
    def text(row: 'Row', link: Link) -> str:
        n = value(row)
        if n is None:
            return ''
        return f'{n / 1e6:.2f}M' if n >= 1e6 else f'{n / 1e3:.1f}K'
    return text


def _metric_columns() -> List[Column]:
    cols = []
    for key, header in (('ap50', 'AP50'), ('ap75', 'AP75'), ('aps', 'APs'), ('apm', 'APm'),
                        ('apl', 'APl'), ('mask_ap', 'mask AP'), ('apr', 'APr'), ('apc', 'APc'),
                        ('apf', 'APf')):
        value = (lambda k: lambda r: r.summary.final.get(k))(key)
        cols.append(Column(header, key, value, number(value)))
    return cols


def _delta_columns() -> List[Column]:
    """``delta_<key>`` for every compared metric; four of them also in the markdown."""
    shown = {'box_ap': 'Δ box AP', 'best_box_ap': 'Δ best box AP', 'mask_ap': 'Δ mask AP',
             'apr': 'Δ APr'}
    keys = list(shown) + [k for k in tuple(METRIC_KEYS) + ('best_box_ap',) if k not in shown]
    cols = []
    for key in keys:
        value = (lambda k: lambda r: r.twin.deltas.get(k) if r.twin else None)(key)
        cols.append(Column(shown.get(key), f'delta_{key}', value, number(value, sign=True)))
    return cols


def _cost(key: str) -> Callable[['Row'], Any]:
    return lambda r: r.cost.get(key)


def _cost_ratio(key: str) -> Callable[['Row'], Optional[float]]:
    return lambda r: r.twin.cost_ratios.get(key) if r.twin else None


def _twin_text(row: 'Row', link: Link) -> str:
    if row.twin is None:
        return ''
    notes = [f'mean of {row.twin.runs} runs'] if row.twin.runs > 1 else []
    if row.twin.diverged:
        notes.append(f'{row.twin.diverged} diverged run(s) left out')
    return row.twin.twin + (f' ({"; ".join(notes)})' if notes else '')


def _log(row: 'Row') -> Optional[str]:
    return row.summary.run.log_files[-1] if row.summary.run.log_files else None


def _sweep(row: 'Row') -> Tuple[Optional[str], Optional[str]]:
    """(sweep config, member name) of a sweep member's row, else (None, None)."""
    return row.summary.run.sweep or (None, None)


def _trainable_share(row: 'Row') -> Optional[float]:
    """Trainable fraction of the row's parameters, None when they were not counted."""
    if row.trainable_params is None or not row.total_params:
        return None
    return row.trainable_params / row.total_params


def _box_ap(row: 'Row') -> Optional[float]:
    return row.summary.final.get('box_ap')


COLUMNS: Sequence[Column] = (
    Column('Config', 'config', lambda r: r.summary.config,
           lambda r, link: link(r.summary.config, r.config_file) if r.config_file else
           r.summary.config),
    Column(None, 'run', lambda r: r.summary.run.label),
    Column(None, 'sweep', lambda r: _sweep(r)[0]),
    Column('Sweep member', 'sweep_member', lambda r: _sweep(r)[1],
           lambda r, link: '{} [{}]'.format(*_sweep(r)) if r.summary.run.sweep else ''),
    Column('Detector', 'detector', lambda r: r.summary.detector),
    Column('Backbone', 'backbone', lambda r: r.summary.backbone),
    Column('Neck', 'neck', lambda r: r.summary.neck),
    Column('Mode', 'mode', lambda r: r.summary.mode or '',
           lambda r, link: MODE_WORDS.get(r.summary.mode, 'unknown')),
    Column('Schedule', 'schedule', lambda r: r.summary.schedule),
    Column('Epochs', 'epochs', lambda r: r.summary.run.epochs),
    Column('Iters', 'iters', lambda r: r.summary.run.iters),
    Column('box AP', 'box_ap', _box_ap, number(_box_ap)),
    Column('best box AP', 'best_box_ap', lambda r: r.summary.best_box_ap,
           lambda r, link: '' if r.summary.best_box_ap is None else
           f'{r.summary.best_box_ap:.1f} ({r.summary.best_at})'),
    Column(None, 'best_at', lambda r: r.summary.best_at),
    *_metric_columns(),
    *_delta_columns(),
    Column('Twin', 'twin', lambda r: r.twin.twin if r.twin else None, _twin_text),
    Column(None, 'twin_runs', lambda r: r.twin.runs if r.twin else None),
    Column('Trainable params', 'trainable_params', lambda r: r.trainable_params,
           millions(lambda r: r.trainable_params)),
    Column('Total params', 'total_params', lambda r: r.total_params,
           millions(lambda r: r.total_params)),
    Column('Trainable share', 'trainable_share', _trainable_share,
           lambda r, link: '' if _trainable_share(r) is None else
           f'{100 * _trainable_share(r):.0f}%'),
    Column('Peak mem (MB)', 'peak_memory_mb', lambda r: r.summary.peak_memory_mb,
           number(lambda r: r.summary.peak_memory_mb, 0)),
    Column('s/iter', 'sec_per_iter', lambda r: r.summary.sec_per_iter,
           number(lambda r: r.summary.sec_per_iter, 3)),
    Column(None, 'cost_device', _cost('device')),
    Column(None, 'cost_batch_size', _cost('batch_size')),
    Column('cost s/iter', 'cost_sec_per_iter', _cost('sec_per_iter'),
           number(_cost('sec_per_iter'), 3)),
    Column('cost s/iter x twin', 'cost_sec_per_iter_x_twin', _cost_ratio('sec_per_iter'),
           number(_cost_ratio('sec_per_iter'), 2)),
    Column('cost peak mem (MB)', 'cost_peak_memory_mb', _cost('peak_memory_mb'),
           number(_cost('peak_memory_mb'), 0)),
    Column('cost mem x twin', 'cost_peak_memory_mb_x_twin', _cost_ratio('peak_memory_mb'),
           number(_cost_ratio('peak_memory_mb'), 2)),
    Column('optimizer state (MB)', 'cost_optimizer_state_mb', _cost('optimizer_state_mb'),
           number(_cost('optimizer_state_mb'), 1)),
    Column('train GFLOPs/iter', 'cost_train_flops', _cost('train_flops'),
           number(_cost('train_flops'), 1, unit=1e9)),
    Column(None, 'config_path', lambda r: r.config_file or r.summary.run.config_path),
    Column('Log', 'log', _log,
           lambda r, link: link(r.summary.run.sessions[-1] if r.summary.run.sessions else 'log',
                                _log(r))),
    Column('Checkpoint', 'checkpoint', lambda r: r.summary.run.checkpoint,
           lambda r, link: link(osp.basename(r.summary.run.checkpoint or ''),
                                r.summary.run.checkpoint)),
)
#: Markdown columns that point into the work dirs (left out of a table published elsewhere).
FILE_COLUMNS = ('Log', 'Checkpoint')


def markdown_table(rows: Sequence['Row'], base: str, file_columns: bool = True) -> List[str]:
    """The table's markdown lines (header, rule, one line per row); empty columns dropped.

    Args:
        rows: The rows.
        base: Folder the links are relative to (where the markdown is written).
        file_columns: Keep the Log and Checkpoint columns.
    """
    def link(text: str, path: Optional[str]) -> str:
        return f'[{text}]({osp.relpath(path, base)})' if path else ''

    cols = [c for c in COLUMNS if c.header is not None
            and (file_columns or c.header not in FILE_COLUMNS)]
    cells = [[c.markdown(r, link) for c in cols] for r in rows]
    keep = [i for i in range(len(cols)) if any(line[i] for line in cells)]
    lines = ['| ' + ' | '.join(cols[i].header for i in keep) + ' |',
             '|' + '|'.join('---' for _ in keep) + '|']
    lines += ['| ' + ' | '.join(line[i] for i in keep) + ' |' for line in cells]
    return lines


def write_csv(rows: Sequence['Row'], path: str) -> str:
    """Every CSV field (empty ones too), floats to 4 decimals; returns ``path``."""
    cols = [c for c in COLUMNS if c.key is not None]
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow([c.key for c in cols])
        for r in rows:
            values = [c.value(r) for c in cols]
            writer.writerow(['' if v is None else round(v, 4) if isinstance(v, float) else v
                             for v in values])
    return path
