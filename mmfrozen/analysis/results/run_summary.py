"""The facts of one training run: what it reached and what it cost, from its logs and config.

Comparisons between runs (a run against its fine-tuned twin) are in :mod:`.comparison`.

The mode of a run (fine-tuned, frozen, frozen with adapters or LoRA, scratch, or unknown) is read
from its dumped config by :func:`mmfrozen.config.config_mode`, as the paper's
comparison (frozen vs fine-tuned twins) needs it to be right even when a config is misnamed.
"""
import json
import math
import os.path as osp
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ...config import (UNKNOWN, ConfigName, NamedSchedule, config_mode, dataset_repeats,
                        innermost_dataset)
from ..params import count_config
from .run_log import SESSION_KEYS, RunLog, config_values
from .train_loop import read_top_level

#: Column key -> metric names after the evaluator prefix (CocoMetric / CocoFrequencyMetric
#: ``coco/bbox_mAP``..., LVISMetric ``lvis/bbox_AP``...), in order of preference.
METRIC_KEYS: Dict[str, Tuple[str, ...]] = {
    'box_ap': ('bbox_mAP', 'bbox_AP'),
    'ap50': ('bbox_mAP_50', 'bbox_AP50'),
    'ap75': ('bbox_mAP_75', 'bbox_AP75'),
    'aps': ('bbox_mAP_s', 'bbox_APs'),
    'apm': ('bbox_mAP_m', 'bbox_APm'),
    'apl': ('bbox_mAP_l', 'bbox_APl'),
    'mask_ap': ('segm_mAP', 'segm_AP'),
    'apr': ('bbox_APr',),
    'apc': ('bbox_APc',),
    'apf': ('bbox_APf',),
}
MODE_WORDS = {'ft': 'fine-tuned', 'frozen': 'frozen', 'frozen-adapters': 'adapters',
              'frozen-lora': 'LoRA', 'scratch': 'scratch', UNKNOWN: 'unknown'}


@dataclass
class RunSummary:
    """What one run reached and cost; AP values in percent (COCO AP x 100).

    Attributes:
        run: The parsed logs.
        name: The parsed config name, None if it does not follow the convention.
        mode: One of :data:`mmfrozen.config.MODES` or ``unknown`` (a warning says
            why), from the config; None when the config is missing.
        final: Metric column -> value at the last evaluation (None when not reported).
        best_box_ap: Highest box AP over all evaluations and where it was reached.
        per_class: Class name -> AP at the last evaluation, when the metric was class-wise.
        trainable_params / total_params: Parameter counts of the model as configured.
        metric_prefix: The evaluator prefix (``coco``, ``lvis``) every metric is read from
            when several evaluators report box AP; None: from whichever reports it.
        seed: The config's ``randomness.seed`` (None when unset): a run is compared with its
            twin's run of the same seed where there is one.
        metric_prefixes: Every evaluator prefix that reports box AP (several when the run has
            several evaluators).
        batch_size: The config's ``train_dataloader.batch_size`` (images per GPU); None when
            the config is missing.
        repeats: Passes over the data in one loop epoch (``RepeatDataset``'s ``times``).
        schedule_disagreements: What the config trains that its name's schedule does not say
            (another length or batch, e.g. from ``--cfg-options``), in words.
    """
    run: RunLog
    name: Optional[ConfigName]
    mode: Optional[str]
    detector: str = ''
    backbone: str = ''
    neck: str = ''
    dataset: str = ''
    final: Dict[str, Optional[float]] = field(default_factory=dict)
    best_box_ap: Optional[float] = None
    best_at: Optional[str] = None
    per_class: Dict[str, float] = field(default_factory=dict)
    per_class_metric: Optional[str] = None
    train_ann_file: Optional[str] = None
    trainable_params: Optional[int] = None
    total_params: Optional[int] = None
    peak_memory_mb: Optional[float] = None
    sec_per_iter: Optional[float] = None
    warnings: List[str] = field(default_factory=list)
    metric_prefix: Optional[str] = None
    metric_prefixes: List[str] = field(default_factory=list)
    seed: Optional[int] = None
    batch_size: Optional[int] = None
    repeats: int = 1
    schedule_disagreements: List[str] = field(default_factory=list)

    @property
    def config(self) -> str:
        """Config file name without ``.py``."""
        return self.run.config_stem

    @property
    def schedule(self) -> str:
        """Schedule part of the name (``1x``, ``lsj-72e``) where the config trains what it says,
        else what the config trains written the same way with the name's beside it
        (``lsj-12e (name: lsj-72e)``); without a schedule in the name, the config's loop:
        ``<epochs>e`` (passes over the data: ``max_epochs`` x ``RepeatDataset`` times) or
        ``<max_iters>i``."""
        if self.name is not None and self.name.schedule:
            if not self.schedule_disagreements:
                return self.name.schedule
            return f'{self.ran_schedule} (name: {self.name.schedule})'
        loop = self.run.loop
        if loop is not None and loop.by_epoch and loop.max_epochs and self.repeats > 1:
            return f'{loop.max_epochs * self.repeats}e'  # passes over the data
        return loop.schedule if loop is not None else ''

    @property
    def ran_schedule(self) -> str:
        """The name's schedule part rewritten with the length and batch the config trains."""
        loop, schedule = self.run.loop, self.name.schedule if self.name is not None else ''
        if loop is None or loop.by_epoch is None:
            return schedule
        epochs = loop.max_epochs * self.repeats if loop.by_epoch and loop.max_epochs else None
        iters = loop.max_iters if loop.by_epoch is False else None
        return NamedSchedule.rewrite(schedule, epochs, iters, self.batch_size)

    @property
    def evaluated_at(self) -> Optional[Tuple[str, int]]:
        """Where the run was last evaluated (its AP cells): ``('epoch', e)`` for an epoch-based
        loop, else ``('iteration', i)``; None without an evaluation."""
        if not self.run.evals:
            return None
        last, loop = self.run.evals[-1], self.run.loop
        if last.get('epoch') is not None and (loop is None or loop.by_epoch is not False):
            return 'epoch', int(last['epoch'])
        return 'iteration', int(last['iter'])

    @property
    def budget(self) -> Optional[Tuple[bool, Optional[int], Optional[int], Optional[int]]]:
        """(by epoch, epochs (passes over the data), iterations, images per GPU) the config
        trains; None when its loop is unknown. Twins are compared at one budget."""
        loop = self.run.loop
        if loop is None or loop.by_epoch is None:
            return None
        return (loop.by_epoch, loop.max_epochs * self.repeats if loop.max_epochs else None,
                loop.max_iters if not loop.by_epoch else None, self.batch_size)

    def curve(self, key: str, prefix: Optional[str] = None) -> List[Tuple[float, float]]:
        """(epoch or iteration, value in percent) of metric column ``key`` at every evaluation,
        from the evaluator ``prefix`` (default :attr:`metric_prefix`)."""
        out = []
        for e in self.run.evals:
            value = metric_value(e['metrics'], key, prefix or self.metric_prefix)
            if value is not None:
                out.append((e['epoch'] if e['epoch'] is not None else e['iter'], value))
        return out


def _percent(value: Any) -> Optional[float]:
    if not isinstance(value, (int, float)) or math.isnan(value) or value < 0:
        return None  # COCOeval reports -1 when a range has no objects
    return 100.0 * float(value)


def metric_value(metrics: Dict[str, float], key: str,
                 prefix: Optional[str] = None) -> Optional[float]:
    """Value in percent of column ``key`` (see :data:`METRIC_KEYS`) in one evaluation, from the
    evaluator ``prefix`` (``coco``, ``lvis``) when given."""
    for name in METRIC_KEYS[key]:
        for full in sorted(metrics):
            if full.split('/', 1)[-1] == name and (
                    prefix is None or full.split('/', 1)[0] == prefix):
                return _percent(metrics[full])
    return None


def best_value(summary: 'RunSummary', key: str,
               prefix: Optional[str] = None) -> Optional[Tuple[float, dict]]:
    """(highest value in percent of column ``key`` over the run's evaluations, the evaluation),
    from the evaluator ``prefix`` (default: the run's); None when none reports it."""
    best = None
    for e in summary.run.evals:
        value = metric_value(e['metrics'], key, prefix or summary.metric_prefix)
        if value is not None and (best is None or value > best[0]):
            best = (value, e)
    return best


def per_class_ap(metrics: Dict[str, float], classes: Optional[List[str]],
                 metric_kinds: List[str]) -> Tuple[Dict[str, float], Optional[str]]:
    """Per-class AP (percent) of a class-wise evaluation and which metric it is.

    mmdet 3.3's CocoMetric logs ``coco/<class>_precision`` (for bbox and segm under the same
    key, so the last metric evaluated wins); CocoFrequencyMetric logs
    ``coco/bbox_<class>_precision``. Classes whose AP is NaN (no instance in the val set) are
    left out.
    """
    by_kind: Dict[str, Dict[str, float]] = {}
    for full, value in metrics.items():
        name = full.split('/', 1)[-1]
        if not name.endswith('_precision'):
            continue
        name = name[:-len('_precision')]
        kind = metric_kinds[-1] if metric_kinds else 'bbox'
        for prefix in ('bbox_', 'segm_'):
            rest = name[len(prefix):]
            if name.startswith(prefix) and (classes is None or rest in classes):
                kind, name = prefix[:-1], rest
        ap = _percent(value)
        if ap is not None:
            by_kind.setdefault(kind, {})[name] = ap
    if not by_kind:
        return {}, None
    kind = 'bbox' if 'bbox' in by_kind else sorted(by_kind)[0]
    return by_kind[kind], kind


def train_ann_file(cfg) -> Optional[str]:
    """Path of the training annotation file named in a config, None if it names none."""
    ds = innermost_dataset(cfg.get('train_dataloader') or {})
    ann = ds.get('ann_file')
    if not ann:
        return None
    root = ds.get('data_root') or ''
    return ann if osp.isabs(ann) else osp.join(root, ann)


def annotation_counts(ann_file: str) -> Dict[str, int]:
    """Number of (non-crowd) annotations per category name in a COCO-format file."""
    with open(ann_file) as f:
        data = json.load(f)
    names = {c['id']: c['name'] for c in data['categories']}
    counts = Counter(names[a['category_id']] for a in data['annotations']
                     if not a.get('iscrowd', 0))
    return {name: counts.get(name, 0) for name in names.values()}


def _describe_model(cfg) -> Tuple[str, str, str]:
    model = cfg.get('model', {}) or {}
    backbone = model.get('backbone', {}) or {}
    bb = str(backbone.get('type', ''))
    if backbone.get('depth') is not None:
        bb += f'-{backbone["depth"]}'
    if backbone.get('arch') is not None:
        bb += f'-{backbone["arch"]}'
    neck = model.get('neck') or {}
    necks = neck if isinstance(neck, (list, tuple)) else [neck]
    return (str(model.get('type', '')), bb, '+'.join(str(n.get('type', '')) for n in necks))


def _metric_kinds(cfg) -> List[str]:
    evaluator = cfg.get('val_evaluator') or {}
    evaluators = evaluator if isinstance(evaluator, (list, tuple)) else [evaluator]
    kinds: List[str] = []
    for e in evaluators:
        metric = e.get('metric', 'bbox') if isinstance(e, dict) else 'bbox'
        kinds += [metric] if isinstance(metric, str) else list(metric)
    return kinds


def divergence(train: List[dict]) -> Optional[Tuple[int, str, float]]:
    """(iteration, key, value) of the first training record of the non-finite stretch that
    ends the run: a NaN or infinite loss on every record from there to the last. None when
    the last record's losses are finite (see :func:`non_finite_stretches`)."""
    stretches = non_finite_stretches(train)
    if stretches and stretches[-1][1] == train[-1]['iter']:
        return stretches[-1][0], stretches[-1][2], stretches[-1][3]
    return None


def non_finite_stretches(train: List[dict]) -> List[Tuple[int, int, str, float]]:
    """(first iteration, last iteration, key, value) of each run of consecutive training
    records with a NaN or infinite loss (key and value: the first such loss of the stretch)."""
    stretches: List[Tuple[int, int, str, float]] = []
    previous_bad = False
    for r in train:
        bad = [(k, v) for k, v in r.items()
               if k.startswith('loss') and isinstance(v, float) and not math.isfinite(v)]
        if bad and previous_bad:
            stretches[-1] = stretches[-1][:1] + (r['iter'],) + stretches[-1][2:]
        elif bad:
            stretches.append((r['iter'], r['iter']) + bad[0])
        previous_bad = bool(bad)
    return stretches


def _config_key(stem: str, cfg: Optional[Any], path: Optional[str]) -> Optional[str]:
    """What makes two runs' configs the same: their name and the loaded config's content, else
    the source of the file that did not load, less the keys that differ between the sessions
    and seeds of one config (:data:`~.run_log.SESSION_KEYS`); None without either."""
    if cfg is not None:
        content = cfg.to_dict()
    else:
        content = config_values(path) if path is not None else None
        if content is None:
            return None
    content = {k: v for k, v in content.items() if k not in SESSION_KEYS}
    return stem + '\n' + json.dumps(content, sort_keys=True, default=str)


def _schedule_facts(summary: RunSummary, cfg: Optional[Any]) -> List[str]:
    """Set the batch, the data repeats and the schedule disagreements of ``summary`` from its
    config (loaded, else read as source: a config whose imports do not exist here still says
    how it trains); what to say about them."""
    run, name = summary.run, summary.name
    if cfg is not None:
        loader = cfg.get('train_dataloader') or {}
    else:
        loader = (read_top_level(run.config_path, 'train_dataloader')
                  if run.config_path is not None else None) or {}
    batch = loader.get('batch_size')
    summary.batch_size = batch if isinstance(batch, int) else None
    summary.repeats = dataset_repeats(loader)
    loop = run.loop
    if name is None or loop is None:
        return []
    summary.schedule_disagreements = name.claims.disagreements(
        loop.by_epoch, loop.max_epochs, loop.max_iters, summary.batch_size, summary.repeats,
        batches_per_epoch=run.epoch_len)
    unchecked = name.claims.unchecked(loop.by_epoch, loop.max_iters, run.epoch_len)
    said = [f'{run.label}: {unchecked}'] if unchecked else []
    if summary.schedule_disagreements:
        said.append(f'{run.label}: the name says schedule {name.schedule!r}, but its dumped '
                    f'config trains {"; ".join(summary.schedule_disagreements)} (e.g. set by '
                    f'--cfg-options); the Schedule column shows what ran '
                    f'({summary.ran_schedule!r})')
    return said


def summarize(run: RunLog, params: bool = True, cfg: Optional[Any] = None,
              configs: Optional[Dict[str, Any]] = None
              ) -> Tuple[Optional[RunSummary], List[str]]:
    """Summarize one run; (None, warnings) when it has nothing to put in a table.

    Args:
        run: The run's logs.
        params: Count parameters by building the model from the dumped config.
        cfg: The run's config, already loaded; None: loaded from ``run.config_path``.
        configs: The configs of the runs summarized before, by content, with their parameter
            count (or the error that stopped it), shared by the runs of a table: each config's
            model is built once, and what is said about a config is said for its first run
            only, not once per session or run. None: nothing shared.
    """
    configs = {} if configs is None else configs
    warnings = list(run.warnings)
    where = run.label
    if not run.train:
        warnings.append(f'{where}: no training records; no row')
        return None, warnings
    keys = {k for e in run.evals for k in e['metrics']}
    detection = METRIC_KEYS['box_ap'] + METRIC_KEYS['mask_ap']
    if keys and not any(k.split('/', 1)[-1] in detection for k in keys):
        warnings.append(f'{where}: the evaluations report {sorted(keys)[:6]}, no detection '
                        f'metric ({" / ".join(detection)}); not a detection run, no row')
        return None, warnings
    name = ConfigName.parse(run.config_stem)
    about_config: List[str] = []  # said for the first run of a config only
    if name is None:
        about_config.append(f'{where}: config name {run.config_stem!r} does not follow '
                            '{algorithm}_{backbone}-{mode}_{neck}_{schedule}_{dataset}; '
                            'no twin can be paired with it')
    summary = RunSummary(run=run, name=name, mode=None, warnings=warnings)
    if cfg is None and run.config_path is not None:
        from mmengine.config import Config
        try:
            cfg = Config.fromfile(run.config_path)
        except Exception as exc:  # any error of a user config: report and go on without it
            about_config.append(f'{where}: cannot load the dumped config {run.config_path} '
                                f'({type(exc).__name__}: {exc}); mode and parameters unknown')
    key = _config_key(run.config_stem, cfg, run.config_path)
    first = key is None or key not in configs
    if key is not None:
        configs.setdefault(key, None)
    if cfg is not None:
        unknown: List[str] = []
        summary.mode = config_mode(cfg, unknown)
        about_config += [f'{where}: {w}' for w in unknown]
        summary.detector, summary.backbone, summary.neck = _describe_model(cfg)
        summary.dataset = str(innermost_dataset(cfg.get('train_dataloader') or {}).get(
            'type', ''))
        summary.train_ann_file = train_ann_file(cfg)
        seed = (cfg.get('randomness') or {}).get('seed')
        summary.seed = seed if isinstance(seed, int) else None
        if name is not None and summary.mode not in (name.mode, UNKNOWN):
            about_config.append(f'{where}: the name says mode {name.mode!r} but the config '
                                f'trains {summary.mode!r}; the table uses the config\'s')
        if params:
            if configs[key] is None:
                try:
                    configs[key] = count_config(cfg)
                except Exception as exc:  # a model that does not build here: report it
                    configs[key] = exc
            count = configs[key]
            if isinstance(count, Exception):
                about_config.append(
                    f'{where}: cannot build the model to count parameters '
                    f'({type(count).__name__}: {count}); the parameter columns are empty '
                    'for this run and every other run of the same config')
            else:
                summary.trainable_params, summary.total_params = count.trainable, count.total
    else:
        warnings.append(f'{where}: mode unknown without the dumped config')
    about_config += _schedule_facts(summary, cfg)
    if first:
        warnings += about_config

    at, loop = summary.evaluated_at, run.loop
    end = None if loop is None else loop.max_epochs if loop.by_epoch else loop.max_iters
    if at is not None and end and at[0] == ('epoch' if loop.by_epoch else 'iteration') \
            and at[1] < end:
        warnings.append(f'{where}: last evaluated at {at[0]} {at[1]} of the {end} its config '
                        'trains (stopped early, or still training): its AP cells are from '
                        'there')
    diverged = divergence(run.train)
    recovered = [st for st in non_finite_stretches(run.train)
                 if diverged is None or st[0] != diverged[0]]
    if recovered:
        after = {st[1]: next(r['iter'] for r in run.train if r['iter'] > st[1])
                 for st in recovered}
        warnings.append(f'{where}: non-finite training loss (' + '; '.join(
            f'{key} {value} at iterations {a}-{b}, finite again from {after[b]}'
            for a, b, key, value in recovered) + '): not a divergence (e.g. a step the mixed-'
            'precision optimizer wrapper skipped); a logged loss is the mean of its logging '
            'window, which one non-finite step makes non-finite')
    empty = [e['iter'] for e in run.evals if not e['metrics']]
    unscored = (f'{len(empty)} evaluation(s) (at iterations '
                f'{", ".join(map(str, empty[:5]))}{", ..." if len(empty) > 5 else ""}) ran but '
                'logged no metric')
    if diverged is not None:
        it, key, value = diverged
        warnings.append(f'{where}: the run diverged: {key} is {value} from iteration {it} on'
                        + (f'; {unscored} (nothing left to score)' if empty else ''))
    elif empty:
        warnings.append(f'{where}: {unscored} (the evaluator scored nothing, e.g. no '
                        'detections)')
    if not run.evals:
        warnings.append(f'{where}: no evaluation results (validation never ran or its lines '
                        'are missing); metric columns are empty')
    else:
        summary.metric_prefixes = sorted({
            full.split('/', 1)[0] for e in run.evals for full in e['metrics']
            if '/' in full and full.split('/', 1)[1] in METRIC_KEYS['box_ap']})
        with_apr = [p for p in summary.metric_prefixes
                    if any(f'{p}/bbox_APr' in e['metrics'] for e in run.evals)]
        if len(summary.metric_prefixes) > 1:
            summary.metric_prefix = (with_apr or summary.metric_prefixes)[0]
            warnings.append(
                f'{where}: box AP is reported by several evaluators (prefixes '
                f'{summary.metric_prefixes}); every metric of the row is read from '
                f'{summary.metric_prefix!r} ({"the one with APr" if with_apr else "the first"})'
                ', and the difference to a twin from the evaluator the twin has')
        last = run.evals[-1]
        summary.final = {k: metric_value(last['metrics'], k, summary.metric_prefix)
                         for k in METRIC_KEYS}
        if summary.final['box_ap'] is None and summary.final['mask_ap'] is None \
                and last['metrics']:
            warnings.append(f'{where}: the last evaluation (iteration {last["iter"]}) has no '
                            'box AP')
        best = best_value(summary, 'box_ap')
        if best is not None:
            summary.best_box_ap = best[0]
            e = best[1]
            summary.best_at = f'e{e["epoch"]}' if e['epoch'] is not None else f'i{e["iter"]}'
        classes = None
        if cfg is not None:
            classes = list((innermost_dataset(cfg.get('train_dataloader') or {}).get(
                'metainfo') or {}).get('classes') or []) or None
        summary.per_class, summary.per_class_metric = per_class_ap(
            last['metrics'], classes, _metric_kinds(cfg) if cfg is not None else [])
    times = [r['time'] for r in run.train if isinstance(r.get('time'), (int, float))]
    if len(times) > 1:
        times = times[1:]  # the first logged window includes warm-up
    summary.sec_per_iter = statistics.median(times) if times else None
    memory = [r['memory'] for r in run.train if isinstance(r.get('memory'), (int, float))]
    summary.peak_memory_mb = float(max(memory)) if memory else None
    return summary, warnings
