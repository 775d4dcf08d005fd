"""Read mmengine work dirs into one record per training run.

An mmengine work dir holds one folder per session (``YYYYMMDD_HHMMSS/``) with the text log
``<ts>.log``, the scalar log ``vis_data/scalars.json`` (one JSON object per line; the same lines
also in ``vis_data/<ts>.json``) and the dumped config ``vis_data/config.py``; the work dir itself
holds the config again as ``<config name>.py``, the checkpoints and ``last_checkpoint``.

A session that resumes (its text log says ``resumed epoch: E, iter: I``; without training lines
in its text log, e.g. under ``log_level='WARNING'``, its scalars continue the iterations)
continues the run of the session before it; a session that starts from the first iteration is
another run, reported on its own, and so is a session whose dumped config differs from that of
the run before it (in anything but the keys a resume itself sets, :data:`SESSION_KEYS`, and
those that change how it is launched and logged, :data:`RUNTIME_KEYS` and
:data:`WORKER_OPTIONS`), whatever its log says. Anything that does not parse is reported as a
warning, never dropped silently.

Each validation is placed at the iteration (epoch) it ran, from its logged ``step`` or the
config's validation schedule (:func:`_place_evals`); after a resume, the validations of the
iterations it discarded are dropped.

A Runner built later in the same process can reuse the visualizer of the first one (mmengine
keeps it by name, and mmdet names it ``'visualizer'``): it then appends its scalars to the first
session's ``vis_data/scalars.json``, writes its own ``vis_data/<its ts>.json`` beside the first
session's and dumps its config over the first session's ``config.py``. Such a folder is split by
the sessions' own ``<ts>.json`` files.

The training loop (by epoch or by iteration) is read from the run's dumped config
(:mod:`.train_loop`), and the logs are checked against it.
"""
import ast
import glob
import json
import os
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from .train_loop import TrainLoop, read_train_loop

_TIMESTAMP = re.compile(r'^\d{8}_\d{6}$')
_RESUMED = re.compile(r'resumed epoch: (\d+), iter: (\d+)')
_TRAIN_EPOCH = re.compile(r'Epoch\(train\)\s+\[(\d+)\]\[\s*(\d+)/(\d+)\]\s+(.*)$')
_TRAIN_ITER = re.compile(r'Iter\(train\)\s+\[\s*(\d+)/(\d+)\]\s+(.*)$')
_VAL_EPOCH = re.compile(r'Epoch\(val\)\s+\[(\d+)\]\[\s*(\d+)/(\d+)\]\s+(.*)$')
_VAL_ITER = re.compile(r'Iter\(val\)\s+\[\s*(\d+)/(\d+)\]\s+(.*)$')
#: Keys of a validation line that are no metric: an evaluation that scored nothing logs only them.
_VAL_TIMING = {'step', 'time', 'data_time', 'memory'}
#: mmengine joins the ``key: value`` items of a log line with two spaces; a key may hold one
#: (CocoMetric's ``coco/traffic light_precision``).
_ITEM_SEPARATOR = re.compile(r'\s{2,}')
_MAX_DEPTH = 4
#: Top-level config keys that differ between the sessions (and the seeds) of one run: mmdet's
#: ``tools/train.py`` sets the first four from its command line (``--resume``, ``--work-dir``,
#: ``--launcher``); ``experiment_name`` names the logs, not what is trained.
SESSION_KEYS = ('resume', 'load_from', 'work_dir', 'launcher', 'experiment_name')
#: Top-level config keys that change how a run is launched and logged, not what it trains:
#: logging, checkpointing and the other default hooks, the distributed environment (the
#: package's CPU launcher sets ``env_cfg.dist_cfg`` and ``model_wrapper_cfg``), the visualizer.
RUNTIME_KEYS = ('default_hooks', 'log_level', 'log_processor', 'env_cfg', 'model_wrapper_cfg',
                'visualizer')
#: Options of a dataloader that change how fast it loads, not what.
WORKER_OPTIONS = ('num_workers', 'persistent_workers', 'pin_memory', 'prefetch_factor')


@dataclass
class _Session:
    """One ``YYYYMMDD_HHMMSS/`` folder of a work dir."""
    path: str
    timestamp: str
    train: List[dict] = field(default_factory=list)
    evals: List[dict] = field(default_factory=list)
    resumed_iter: Optional[int] = None
    resumed_epoch: Optional[int] = None
    #: Iterations per epoch (text log ``Epoch(train) [e][i/n]``), and the loop's length in
    #: iterations (``Iter(train) [i/N]``), when its text log says them.
    epoch_len: Optional[int] = None
    logged_max_iters: Optional[int] = None
    #: A text-log training line ``[e][i/n]`` with ``i > n``, if any (an iteration-based loop).
    past_epoch_end: Optional[str] = None
    #: Iteration the session started after (0, or where it resumed), set with its run.
    start: int = 0
    #: Whether its text log has training lines (one written under log_level='WARNING' has
    #: neither them nor the INFO line that says it resumed).
    has_text_log: bool = False
    source: Optional[str] = None
    config_path: Optional[str] = None


@dataclass
class RunLog:
    """Everything logged by one training run (one or more sessions of one work dir).

    Attributes:
        work_dir: The work dir.
        label: Short name of the run: the work dir, plus ``@<timestamp>`` when the work dir holds
            several independent runs.
        config_stem: Config file name without ``.py`` (from the ``<name>.py`` the Runner dumps
            into the work dir; the work dir's name when that is missing).
        config_path: The config dumped by the run's last session, None if there is none.
        sessions: Timestamps of the sessions that make up the run, in order.
        train: Training log records (mmengine's keys: ``loss``, ``lr``, ``time``, ``memory``,
            ``iter``, ``epoch``, ...), one per logged iteration, ascending ``iter``.
        evals: Validation results, each a dict with ``iter`` (training iterations done when it
            ran), ``epoch`` (epochs done, None for iteration-based loops) and ``metrics``.
        log_files: The files the records were read from.
        checkpoint: The latest checkpoint of the run, None if there is none.
        warnings: Everything that was odd about the logs, in words.
        sweep: For a member of a sweep run, ``(sweep config name, member name)``; else None.
        loop: The training loop its config declares; None when unknown (no config, or one its
            logs contradict), except that logs only an iteration-based loop writes (validation
            ``step`` 0, a text-log batch index past the epoch's length) give an iteration-based
            loop of unknown length.
        epoch_len: Iterations per epoch, when its logs tell them; for an iteration-based loop,
            the training dataloader's length its text log gives (``[1][i/n]``).
        cfg_options: For a sweep member, the ``cfg_options`` the sweep applied to its config
            file (None: none, or not a member).
    """
    work_dir: str
    label: str
    config_stem: str
    config_path: Optional[str]
    sessions: List[str]
    train: List[dict]
    evals: List[dict]
    log_files: List[str]
    checkpoint: Optional[str] = None
    warnings: List[str] = field(default_factory=list)
    sweep: Optional[Tuple[str, str]] = None
    loop: Optional[TrainLoop] = None
    epoch_len: Optional[int] = None
    cfg_options: Optional[dict] = None

    @property
    def iters(self) -> int:
        """Training iterations run (the last logged iteration)."""
        return max((r['iter'] for r in self.train), default=0)

    @property
    def epochs(self) -> Optional[int]:
        """Epochs run, None for iteration-based loops."""
        if self.loop is not None and self.loop.by_epoch is False:
            return None  # its logged ``epoch`` (log_processor.by_epoch) stays 1
        epochs = [r['epoch'] for r in self.train if r.get('epoch') is not None]
        if not epochs and self.loop is not None and self.loop.by_epoch:
            # logged by iteration (log_processor.by_epoch=False): no epoch on its training lines
            if self.epoch_len:
                return -(-self.iters // self.epoch_len)
            epochs = [e['epoch'] for e in self.evals if e['epoch'] is not None]
        return max(epochs) if epochs else None


def _parse_float(text: str) -> Optional[float]:
    try:
        return float(text)
    except ValueError:
        return None


def _key_values(text: str) -> Dict[str, float]:
    out = {}
    for item in _ITEM_SEPARATOR.split(text.strip()):
        key, _, value = item.rpartition(': ')
        number = _parse_float(value) if key else None
        if number is not None:
            out[key.strip()] = number
    return out


def _read_json_lines(path: str, warnings: List[str]) -> List[dict]:
    with open(path, encoding='utf-8', errors='replace') as f:
        text = f.read()
    lines = text.split('\n')
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    records = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if i == last:
                warnings.append(f'{path}: the last line ({i + 1}) is truncated (the run was '
                                'killed or is still writing); it is ignored')
            else:
                warnings.append(f'{path}: line {i + 1} is not valid JSON; it is ignored')
            continue
        if not isinstance(record, dict):
            warnings.append(f'{path}: line {i + 1} is not a JSON object; it is ignored')
            continue
        records.append(record)
    return records


def _read_text_log(path: str, session: _Session) -> List[dict]:
    """Training/validation records from an mmengine text log; sets ``session``'s resumed
    epoch and iteration and the lengths the log states (:class:`_Session`)."""
    records = []
    with open(path, encoding='utf-8', errors='replace') as f:
        for line in f:
            m = _RESUMED.search(line)
            if m:
                session.resumed_epoch, session.resumed_iter = int(m.group(1)), int(m.group(2))
                continue
            m = _TRAIN_EPOCH.search(line)
            if m:
                epoch, i, n = int(m.group(1)), int(m.group(2)), int(m.group(3))
                session.epoch_len = n
                if i > n and session.past_epoch_end is None:
                    session.past_epoch_end = f'[{epoch}][{i}/{n}]'
                records.append(dict(_key_values(m.group(4)), epoch=epoch,
                                    iter=(epoch - 1) * n + i))
                continue
            m = _TRAIN_ITER.search(line)
            if m:
                session.logged_max_iters = int(m.group(2))
                records.append(dict(_key_values(m.group(3)), iter=int(m.group(1))))
                continue
            m = _VAL_EPOCH.search(line) or _VAL_ITER.search(line)
            if m:
                rest = m.group(m.lastindex)
                values = _key_values(rest)
                i, n = int(m.group(m.lastindex - 2)), int(m.group(m.lastindex - 1))
                # the line that ends a validation (no eta), even one that logged no metric
                if any('/' in k for k in values) or (i == n and 'eta:' not in rest):
                    if m.re is _VAL_EPOCH:
                        values['step'] = int(m.group(1))
                    records.append(values)
    return records


def _read_session(path: str, warnings: List[str],
                  shared: Optional[Tuple[Optional[str], Optional[str]]] = None) -> _Session:
    """One session folder; ``shared``: (its own ``<ts>.json``, its ``config.py``) when its
    scalars are in a visualizer folder shared by several sessions (:func:`_shared_vis_data`)."""
    ts = osp.basename(path)
    session = _Session(path=path, timestamp=ts)
    text_log = osp.join(path, f'{ts}.log')
    text_records: List[dict] = []
    if osp.isfile(text_log):
        text_records = _read_text_log(text_log, session)
        session.has_text_log = any('iter' in r for r in text_records)
    resumed = session.resumed_iter
    session.start = resumed or 0
    config = osp.join(path, 'vis_data', 'config.py')
    session.config_path = config if osp.isfile(config) else None
    candidates = (osp.join(path, 'vis_data', 'scalars.json'),
                  osp.join(path, 'vis_data', f'{ts}.json'))
    if shared is not None:
        session.config_path = shared[1]
        candidates = (shared[0],) if shared[0] else ()
    for candidate in candidates:
        if osp.isfile(candidate):
            session.source = candidate
            records = _read_json_lines(candidate, warnings)
            break
    else:
        if text_records:
            warnings.append(f'{path}: no vis_data/scalars.json; values read from the text log '
                            f'{ts}.log (4 significant digits)')
            session.source = text_log
        records = text_records

    last_iter = resumed if resumed is not None else 0
    last_train: Optional[dict] = None
    for record in records:
        if 'iter' in record:
            it = int(record['iter'])
            if last_train is not None and it <= last_train['iter']:
                warnings.append(
                    f'{session.source}: steps go back (iteration {it} logged after '
                    f'{last_train["iter"]}); treating it as a restart from iteration {it - 1}: '
                    'the later records replace the earlier ones from there on')
                session.train = [r for r in session.train if r['iter'] < it]
                session.evals = [e for e in session.evals if e['iter'] < it]
            record = dict(record, iter=it)
            session.train.append(record)
            last_train, last_iter = record, it
        elif any('/' in k for k in record) or (record and set(record) <= _VAL_TIMING):
            # an evaluation; one that scored nothing (e.g. no detections) logs no metric
            metrics = {k: v for k, v in record.items() if '/' in k}
            by_epoch = last_train is not None and last_train.get('epoch') is not None
            epoch = int(record['step']) if by_epoch and 'step' in record else None
            # iter/epoch: where the logs put it; placed by the run's loop (_place_evals)
            session.evals.append(dict(iter=last_iter, epoch=epoch, metrics=metrics,
                                      step=record.get('step')))
    return session


def _place_evals(session: _Session, loop: Optional[TrainLoop],
                 warnings: List[str]) -> Optional[int]:
    """Put each validation of ``session`` where it ran, as ``loop`` schedules it.

    The scalar log's ``step`` of a validation is its epoch (``log_metric_by_epoch``, mmengine's
    default) or its iteration; the text log says the epoch of an epoch-based loop logged by
    epoch. What no log says is read from the loop: the k-th validation of the session is the
    k-th that ``val_interval``/``val_begin`` schedule after the iteration (epoch) it started
    from; an epoch's iteration is epoch x iterations per epoch. Without a known loop each stays
    at the training iteration logged just before it.

    Returns:
        The iterations per epoch of an epoch-based loop, when the logs tell them.
    """
    from_text = session.source is not None and session.source.endswith('.log')
    evals, session.evals = session.evals, []
    if loop is None or loop.by_epoch is None:
        session.evals = [{k: v for k, v in e.items() if k != 'step'} for e in evals]
        return None
    n = session.epoch_len
    if loop.by_epoch and n is None and session.logged_max_iters and loop.max_epochs \
            and session.logged_max_iters % loop.max_epochs == 0:
        n = session.logged_max_iters // loop.max_epochs  # Iter(train) [i/max_epochs x n]
    if loop.by_epoch and n is None and session.resumed_epoch:
        n = session.start // session.resumed_epoch
    start = session.start
    if loop.by_epoch:
        start = session.resumed_epoch or (session.start // n if n else 0)
    planned = loop.validations(start)
    for e in evals:
        step, where = e.pop('step'), next(planned, None)
        step_is_epoch = from_text or loop.log_metric_by_epoch
        if loop.by_epoch:
            it = None if step is None or step_is_epoch else int(step)
            epoch = int(step) if step is not None and step_is_epoch else (
                it // n if it is not None and n else where)
            if it is None:
                it = epoch * n if epoch is not None and n else e['iter']
        else:
            epoch, it = None, int(step) if step is not None and not step_is_epoch else where
            if it is None:
                warnings.append(
                    f'{session.path}: more validations than train_cfg schedules (val_interval='
                    f'{loop.val_interval}, val_begin={loop.val_begin}, max_iters='
                    f'{loop.max_iters}); one is placed at the training iteration {e["iter"]} '
                    'logged before it')
                it = e['iter']
        session.evals.append(dict(e, iter=it, epoch=epoch))
    return n if loop.by_epoch else None


def _shared_vis_data(work_dir: str, names: List[str],
                     warnings: List[str]) -> Dict[str, Tuple[Optional[str], Optional[str]]]:
    """Session -> (its own ``<ts>.json``, its ``config.py``) for the sessions whose scalars sit
    in a ``vis_data/`` folder that holds the ``<ts>.json`` of several sessions (see the module
    docstring); sessions not in such a folder are not in the result."""
    out: Dict[str, Tuple[Optional[str], Optional[str]]] = {}
    for name in names:
        vis = osp.join(work_dir, name, 'vis_data')
        own = {osp.splitext(f)[0]: osp.join(vis, f)
               for f in (sorted(os.listdir(vis)) if osp.isdir(vis) else [])
               if f.endswith('.json') and _TIMESTAMP.match(osp.splitext(f)[0])}
        if name not in own or len(own) == 1:  # its own alone (or a copied folder's)
            continue
        last = max(own)  # the last Runner dumped its config over the earlier ones'
        config = osp.join(vis, 'config.py')
        config = config if osp.isfile(config) else None
        warnings.append(
            f'{vis}: holds the scalars of sessions {sorted(own)} (a Runner built later in the '
            'same process reused the visualizer of the first, as mmengine does for a visualizer '
            'of the same name); each session is read from its own <timestamp>.json, not from '
            f'the scalars.json they were all appended to, and config.py is taken for session '
            f'{last}\'s (the last one dumped there)')
        out.setdefault(name, (None, config if name == last else None))
        for ts, path in own.items():
            if ts not in names:
                warnings.append(f'{path}: the scalars of session {ts}, which is not a session '
                                f'of {work_dir} (its Runner wrote into another work dir); '
                                'left out of this work dir\'s runs')
                continue
            out[ts] = (path, config if ts == last else out.get(ts, (None, None))[1])
    return out


def config_values(path: str, workers: bool = True) -> Optional[Dict[str, str]]:
    """Top-level name -> normalised source of its value, of a dumped config (without the
    dataloaders' :data:`WORKER_OPTIONS` unless ``workers``); None when the file cannot be read
    or parsed. Read as source, not run (its imports may not exist here)."""
    try:
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read(), path)
    except (OSError, SyntaxError, ValueError):
        return None
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            value = node.value
            if not workers and isinstance(value, ast.Call) and any(
                    isinstance(t, ast.Name) and t.id.endswith('_dataloader')
                    for t in node.targets):
                value = ast.Call(value.func, value.args, [
                    kw for kw in value.keywords if kw.arg not in WORKER_OPTIONS])
            for target in node.targets:
                if isinstance(target, ast.Name):
                    values[target.id] = ast.dump(value)
    return values


def config_difference(before: Optional[str], after: Optional[str]) -> Tuple[List[str],
                                                                              List[str]]:
    """Top-level keys whose values differ between two dumped configs, but :data:`SESSION_KEYS`:
    (those that change the experiment, those of :data:`RUNTIME_KEYS` or a dataloader's
    :data:`WORKER_OPTIONS`); empty when either is missing or unreadable (nothing to compare)."""
    a = config_values(before) if before else None
    b = config_values(after) if after else None
    if a is None or b is None:
        return [], []
    differ = sorted(k for k in set(a) | set(b) if k not in SESSION_KEYS and a.get(k) != b.get(k))
    a, b = config_values(before, workers=False), config_values(after, workers=False)
    what = [k for k in differ if k not in RUNTIME_KEYS and a.get(k) != b.get(k)]
    return what, [k for k in differ if k not in what]


def _same_file(a: str, b: str) -> bool:
    try:
        with open(a, 'rb') as fa, open(b, 'rb') as fb:
            return fa.read() == fb.read()
    except OSError:
        return False


def _split_member_file(path: str) -> bool:
    """True for ``<checkpoint stem>_<member>.py`` written by the sweep split next to
    ``<checkpoint stem>_<member>.pth``, beside the checkpoint ``<checkpoint stem>.pth``."""
    stem = osp.splitext(path)[0]
    if not osp.isfile(stem + '.pth'):
        return False
    return any(stem.startswith(osp.splitext(c)[0] + '_')
               for c in glob.glob(osp.join(osp.dirname(path), '*.pth')))


def _config_stem(work_dir: str, config_path: Optional[str], warnings: List[str]) -> str:
    dumped = sorted(p for p in glob.glob(osp.join(work_dir, '*.py')) if not _split_member_file(p))
    if len(dumped) == 1:
        return osp.splitext(osp.basename(dumped[0]))[0]
    if config_path is not None:
        for path in dumped:
            if _same_file(path, config_path):
                return osp.splitext(osp.basename(path))[0]
    name = osp.basename(osp.normpath(work_dir))
    if dumped:
        which = ('none equals the run\'s vis_data/config.py' if config_path is not None else
                 'no vis_data/config.py to tell which is the run\'s')
        warnings.append(f'{work_dir}: several dumped configs ({[osp.basename(p) for p in dumped]})'
                        f' and {which}; naming the run {name!r} after the work dir')
    else:
        warnings.append(f'{work_dir}: no <config>.py dumped in the work dir; naming the run '
                        f'{name!r} after the work dir')
    return name


def _checkpoint(work_dir: str) -> Optional[str]:
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            path = f.read().strip()
        for candidate in (path, osp.join(work_dir, osp.basename(path))):
            if candidate and osp.isfile(candidate):
                return candidate
    found = glob.glob(osp.join(work_dir, 'epoch_*.pth')) + glob.glob(
        osp.join(work_dir, 'iter_*.pth'))
    if not found:
        return None
    # epoch_12.pth, not the split's epoch_12_<member>.pth (nor a member named like r3)
    found = [p for p in found if re.fullmatch(r'(epoch|iter)_\d+\.pth', osp.basename(p))]
    if not found:
        return None
    return max(found, key=lambda p: int(re.findall(r'\d+', osp.basename(p))[0]))


def is_work_dir(path: str) -> bool:
    """True if ``path`` holds at least one mmengine session folder (``YYYYMMDD_HHMMSS/``)."""
    return osp.isdir(path) and any(
        _TIMESTAMP.match(name) and osp.isdir(osp.join(path, name)) for name in os.listdir(path))


def find_work_dirs(paths: Sequence[str], warnings: List[str]) -> List[str]:
    """The work dirs at or below ``paths`` (each a work dir or a folder of work dirs).

    Raises:
        FileNotFoundError: a path does not exist.
    """
    found: List[str] = []

    def walk(path: str, depth: int) -> bool:
        if is_work_dir(path):
            found.append(path)
            return True
        if depth >= _MAX_DEPTH:
            return False
        hit = False
        for name in sorted(os.listdir(path)):
            sub = osp.join(path, name)
            if osp.isdir(sub):
                if walk(sub, depth + 1):
                    hit = True
                elif depth == 0:
                    warnings.append(f'{sub}: no mmengine session folder (YYYYMMDD_HHMMSS/) '
                                    'found; it is not a work dir and is skipped')
        return hit

    for path in paths:
        if not osp.isdir(path):
            raise FileNotFoundError(f'{path!r} is not a directory; pass mmengine work dirs or '
                                    'a folder that contains them (e.g. work_dirs/)')
        if not walk(path, 0) and not os.listdir(path):
            warnings.append(f'{path}: empty directory; no runs in it')
        elif path not in found and not any(f.startswith(osp.join(path, '')) for f in found):
            warnings.append(f'{path}: no mmengine work dir found in it')
    return found


def _checked_loop(label: str, chain: List[_Session], config_path: Optional[str],
                  warnings: List[str]) -> Optional[TrainLoop]:
    """The training loop of a run's config; None, with a warning, when the logs of a session
    contradict the config found for it (its own dumped config, else the run's)."""
    loop = read_train_loop(config_path)
    for s in chain:
        path = s.config_path or config_path
        own = read_train_loop(path) if path != config_path else loop
        steps = [e['step'] for e in s.evals if e.get('step') is not None]
        found = own.contradictions(s.train, steps, s.past_epoch_end) if own is not None else []
        if found:
            kind = f'type={own.type!r}' if own.type else f'by_epoch={own.by_epoch}'
            warnings.append(
                f'{label}: the logs of session {s.timestamp} contradict the config found for it '
                f'({path}, train_cfg {kind}): {"; ".join(found)}. That config is not the one it '
                'trained with (another session\'s, dumped over its own); the loop is read from '
                'the logs instead, and the mode, parameters and schedule read from that config '
                'may not be this run\'s')
            loop = None
    return loop


def read_work_dir(work_dir: str) -> List[RunLog]:
    """The training runs logged in ``work_dir``: usually one; one per independent restart.

    When no session holds training records, a single run with no records is returned, carrying
    the warnings that say why (the table makes no row of it).
    """
    warnings: List[str] = []
    names = sorted(name for name in os.listdir(work_dir)
                   if _TIMESTAMP.match(name) and osp.isdir(osp.join(work_dir, name)))
    shared = _shared_vis_data(work_dir, names, warnings)
    sessions = [_read_session(osp.join(work_dir, name), warnings, shared.get(name))
                for name in names]
    chains: List[List[_Session]] = []
    for s in sessions:
        if not s.train:
            what = (f'only {len(s.evals)} evaluation(s)' if s.evals else
                    'no training or validation records (a test run, or a run that stopped '
                    'before its first log line)')
            warnings.append(f'{s.path}: {what}; not part of any training run')
            continue
        continues = chains and (s.resumed_iter is not None or (
            not s.has_text_log and s.train[0]['iter'] > chains[-1][0].train[0]['iter']))
        if continues:
            before = next((o.config_path for o in reversed(chains[-1]) if o.config_path), None)
            differ, runtime = config_difference(before, s.config_path)
            if runtime and not differ:
                warnings.append(
                    f'{work_dir}: session {s.timestamp} continues the run of session(s) '
                    f'{[o.timestamp for o in chains[-1]]} with its dumped config changed in '
                    f'{runtime} only (logging, checkpointing, launch or data loading workers, '
                    'not what is trained); one run')
            if differ:
                how = ('says it resumed' if s.resumed_iter is not None else
                       'continues the iterations of')
                warnings.append(
                    f'{work_dir}: session {s.timestamp} {how} the run of session(s) '
                    f'{[o.timestamp for o in chains[-1]]}, but its dumped config differs in '
                    f'{differ}: another run, reported on its own row')
                continues = False
        if not continues:
            chains.append([s])
            continue
        start = s.resumed_iter if s.resumed_iter is not None else s.train[0]['iter'] - 1
        s.start = start
        done = max((r['iter'] for old in chains[-1] for r in old.train), default=0)
        if done > start:
            warnings.append(
                f'{work_dir}: session {s.timestamp} resumes at iteration {start} but the run had '
                f'logged up to iteration {done} (steps go back); the records of iterations '
                f'{start + 1}-{done} from the earlier session(s) are replaced by the later ones')
            for old in chains[-1]:
                old.train = [r for r in old.train if r['iter'] <= start]
        chains[-1].append(s)

    if len(chains) > 1:
        warnings.append(
            f'{work_dir}: holds {len(chains)} independent runs (sessions '
            f'{[c[0].timestamp for c in chains]} each start a run: from the first iteration, '
            'or with another config); each is reported on its own row')
    runs = []
    checkpoint = _checkpoint(work_dir)
    for i, chain in enumerate(chains):
        config_path = next((s.config_path for s in reversed(chain) if s.config_path), None)
        run_warnings = list(warnings)
        stem = _config_stem(work_dir, config_path, run_warnings)
        if config_path is None:
            fallback = osp.join(work_dir, f'{stem}.py')
            if all(s.timestamp in shared for s in chain):
                run_warnings.append(
                    f'{work_dir}: sessions {[s.timestamp for s in chain]} shared their '
                    'visualizer with a later Runner of the same process, whose config was '
                    f'dumped over theirs (vis_data/config.py, {stem}.py): no config of their '
                    'own; mode, parameters and loop unknown')
            elif osp.isfile(fallback):
                config_path = fallback
                run_warnings.append(f'{work_dir}: no vis_data/config.py in sessions '
                                    f'{[s.timestamp for s in chain]}; using {stem}.py of the '
                                    'work dir (the config of its latest session)')
            else:
                run_warnings.append(f'{work_dir}: no dumped config (vis_data/config.py or '
                                    f'<config>.py) for sessions {[s.timestamp for s in chain]}')
        label = work_dir if len(chains) == 1 else f'{work_dir}@{chain[0].timestamp}'
        loop = _checked_loop(label, chain, config_path, run_warnings)
        logged_by_iteration = loop is None and any(
            s.past_epoch_end or any(e.get('step') == 0 for e in s.evals) for s in chain)
        epoch_len = None
        for j, s in enumerate(chain):
            own = read_train_loop(s.config_path) if s.config_path else None
            epoch_len = _place_evals(s, own if loop is not None and own is not None else loop,
                                     run_warnings) or epoch_len
            if logged_by_iteration:  # its ``epoch: 1`` and validation ``step: 0`` are no epochs
                s.evals = [dict(e, epoch=None) for e in s.evals]
            for old in chain[:j]:  # validations of the iterations the resume discarded
                old.evals = [e for e in old.evals if e['iter'] <= s.start]
        runs.append(RunLog(
            work_dir=work_dir, label=label, config_stem=stem, config_path=config_path,
            sessions=[s.timestamp for s in chain],
            train=[r for s in chain for r in s.train],
            evals=[e for s in chain for e in s.evals],
            log_files=[s.source for s in chain if s.source],
            checkpoint=checkpoint if i == len(chains) - 1 else None,
            warnings=run_warnings,
            epoch_len=epoch_len or next((s.epoch_len for s in chain if s.epoch_len), None),
            loop=TrainLoop(type='', by_epoch=False) if logged_by_iteration else loop))
    if not runs:
        runs_warning = RunLog(work_dir=work_dir, label=work_dir, config_stem='', config_path=None,
                              sessions=[], train=[], evals=[], log_files=[], warnings=warnings)
        return [runs_warning]
    return runs
