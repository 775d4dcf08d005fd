"""One training-cost measurement, run in a fresh process so measurements never share memory.

The model is built the way :class:`~mmfrozen.engine.runner.FrozenRunner` builds it for training
(:func:`mmfrozen.engine.frozen_model.build_frozen_model`), SyncBN reverted on a single device,
the optimizer wrapper
built by mmengine's ``build_optim_wrapper`` and pruned with
:func:`mmfrozen.freezing.prune_optimizer`. A step is ``model.train_step(batch, optim_wrapper)``
(preprocess, forward, backward, optimizer step), with the freeze hooks' per-iteration callbacks
called around it as the training loop calls them. Only pretrained loading is disabled.
With an ``EMAHook`` in the config, its averaged model is built as the hook builds it (sharing
the frozen tensors as :class:`~mmfrozen.engine.runner.FrozenRunner` makes it share them, or,
with ``ema_share=False``, copying them as mmengine's hook alone does) and its update is part of
the step.

The *limit* of a frozen step is measured as its parts on the same model: the data preprocessor,
the frozen backbone's forward under ``torch.no_grad()``, and the forward, backward and optimizer
step of the trainable rest on the backbone's detached features.

Peak memory on the CPU is measured twice, in two fresh processes running the same steps: as the
process's peak RSS (what the machine gives; the C allocator's reuse of freed memory moves it by
tens of MB between processes running the same code), and, with ``tensor_peak=True``, as the peak
of the live tensor bytes of c10's CPU allocator (:class:`TensorPeak`), which that reuse does not
move. On CUDA the caching allocator's peak already is the second figure.

Run as ``python -m mmfrozen.analysis.cost.measure REQUEST.json RESULT.json``: a request object
is measured alone (time, peak memory, parameters, optimizer state, FLOPs; or, with
``tensor_peak``, only the tensor peak); a list of requests is timed interleaved in one process
(:func:`time_interleaved`).
"""
import copy
import gc
import json
import logging
import statistics
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

import torch
from torch import nn

_MB = 1024.0 * 1024.0


@dataclass
class CostRequest:
    """What one measurement process measures.

    Args:
        config: Path of the config file.
        label: Name of the variant, copied to the result (``as-config``, ``ft-twin``, ...).
        batch_size: Images per step.
        image_size: (h, w) of every image.
        device: ``'cpu'`` or ``'cuda'``.
        iters: Timed iterations (the median is reported).
        warmup: Untimed iterations first.
        stock: Freeze the way stock mmdet does (``frozen_stages``, ``norm_eval``), no hook.
        precision: Frozen-backbone precision override (``None``: as configured).
        channels_last: Frozen-backbone channels-last override (used with ``precision``).
        limit: Measure the limit of the frozen step (as parts) instead of the step.
        flops: Also count FLOPs per step with ``mmengine.analysis``.
        num_boxes: Ground-truth boxes per synthetic image.
        seed: Seed of the weights and of the synthetic batch.
        threads: torch CPU threads (``None``: torch's default, one per core).
        cfg_options: mmengine ``--cfg-options`` applied to the config.
        ema_share: With an ``EMAHook`` in a frozen config: its averaged model shares the frozen
            tensors (as in a FrozenRunner run); False: it copies them (mmengine's hook alone).
        tensor_peak: Measure only the peak of live tensor bytes (CPU) over the steps, untimed,
            under :class:`TensorPeak`; the other figures come from a process without it.
    """
    config: str
    label: str = 'as-config'
    batch_size: int = 2
    image_size: Tuple[int, int] = (640, 640)
    device: str = 'cpu'
    iters: int = 3
    warmup: int = 1
    stock: bool = False
    precision: Optional[str] = None
    channels_last: bool = False
    limit: bool = False
    flops: bool = True
    num_boxes: int = 8
    seed: int = 0
    threads: Optional[int] = None
    cfg_options: Dict[str, Any] = field(default_factory=dict)
    ema_share: bool = True
    tensor_peak: bool = False


def load_config(request: CostRequest):
    """(config, mode): the config of ``request`` with its variant applied and pretrained
    loading disabled, and the run mode of the variant (read before pretrained is disabled)."""
    from mmengine.config import Config

    from ...config import config_mode
    from ...sweep import expand_sweep_config
    from ...config.edits import disable_pretrained, set_freeze_precision, stock_frozen_stages
    cfg = Config.fromfile(request.config)
    if request.cfg_options:
        cfg.merge_from_dict(request.cfg_options)
    mode = 'frozen' if request.stock else config_mode(cfg)
    expand_sweep_config(cfg)  # a sweep's members inline, so the edits below reach them
    disable_pretrained(cfg)
    for aug in cfg.model.get('data_preprocessor', {}).get('batch_augments') or []:
        if aug.get('type') == 'BatchFixedSizePad':  # LSJ: pads every batch to this size
            aug['size'] = tuple(request.image_size)
    if request.stock:
        stock_frozen_stages(cfg)
    if request.precision is not None:
        set_freeze_precision(cfg, request.precision, request.channels_last)
    return cfg, mode


def build_for_training(cfg, device: str):
    """Model, optimizer wrapper and freeze hooks, built as a FrozenRunner training run does."""
    from mmengine.model import revert_sync_batchnorm

    from ...engine.frozen_model import (build_frozen_model, build_frozen_optim_wrapper,
                                        freeze_hooks)
    from ...freezing.fingerprint import Fingerprint

    hooks = freeze_hooks(cfg.get('custom_hooks'))
    model = build_frozen_model(cfg.model, hooks, check_pretrained=False,
                               default_scope=cfg.get('default_scope', 'mmdet'))
    model.init_weights()
    model = revert_sync_batchnorm(model.to(device))
    optim_wrapper = build_frozen_optim_wrapper(model, cfg.optim_wrapper)
    for hook in hooks:
        for spec in hook.specs:
            # the tool writes no checkpoint: no half-precision digests to record
            hook.fingerprints[spec.path] = Fingerprint.of(model, spec.path, half=False)
    return model, optim_wrapper, hooks


class _Replay(nn.Module):
    """Stands in for the backbone: returns features computed beforehand."""

    def __init__(self, feats) -> None:
        super().__init__()
        self.feats = feats

    def forward(self, *args, **kwargs):
        return self.feats


@contextmanager
def _backbone_replaced(model: nn.Module, feats) -> Iterator[None]:
    backbone = model.backbone
    model.backbone = _Replay(feats)
    try:
        yield
    finally:
        model.backbone = backbone


def _detach(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return x.detach()
    return type(x)(_detach(v) for v in x) if isinstance(x, (list, tuple)) else x


class _IterState:
    """What a hook's ``after_train_iter`` reads from the runner: the model and the iteration."""

    def __init__(self, model: nn.Module, optim_wrapper) -> None:
        self.model = model
        self.optim_wrapper = optim_wrapper
        self.iter = 0
        self.epoch = 0


def ema_hook_cfgs(cfg) -> List[dict]:
    """The ``EMAHook`` entries (or subclasses) of the config's ``custom_hooks``."""
    from mmengine.hooks import EMAHook
    from mmengine.registry import HOOKS
    found = []
    for hook in cfg.get('custom_hooks') or []:
        kind = hook.get('type') if isinstance(hook, dict) else type(hook)
        cls = HOOKS.get(kind) if isinstance(kind, str) else kind
        if isinstance(cls, type) and issubclass(cls, EMAHook):
            found.append(hook)
    return found


def build_ema(cfg, state: _IterState, frozen: bool, share: bool):
    """The config's ``EMAHook`` with its averaged model built as in a training run, and what the
    averaged model holds; ``(None, None)`` without one.

    Raises:
        ValueError: more than one ``EMAHook``.
    """
    from mmengine.registry import HOOKS

    from ...engine.hooks.share_frozen_with_ema_hook import share_frozen_with_ema
    found = ema_hook_cfgs(cfg)
    if not found:
        return None, None
    if len(found) > 1:
        raise ValueError(f'the config has {len(found)} EMAHooks; the cost tool measures one')
    hook_cfg = copy.deepcopy(found[0])
    hook_cfg.pop('priority', None)
    hook = HOOKS.build(hook_cfg)
    hook.before_run(state)
    shared = dict(shared_tensors=0, shared_mb=0.0)
    if frozen and share:
        shared = share_frozen_with_ema(hook.ema_model, state.model)
    own = {t.data_ptr(): t.numel() * t.element_size() for t in state.model.state_dict().values()}
    held = {t.data_ptr(): t.numel() * t.element_size()
            for t in hook.ema_model.state_dict().values() if t.data_ptr() not in own}
    info = dict(type=hook.ema_cfg['type'], shares_frozen=frozen and share,
                shared_tensors=shared['shared_tensors'], shared_mb=shared['shared_mb'],
                ema_model_mb=sum(held.values()) / _MB,
                averaged_tensors=len(hook.ema_model.avg_parameters))
    return hook, info


class _Memory:
    """Peak memory above the level at :meth:`start`: CUDA allocator or process RSS (Linux)."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.base = 0.0

    @staticmethod
    def _status(key: str) -> float:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(key + ':'):
                    return float(line.split()[1]) * 1024.0
        raise RuntimeError(f'no {key} in /proc/self/status')

    def start(self) -> None:
        gc.collect()
        if self.device == 'cuda':
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base = float(torch.cuda.memory_allocated())
            return
        try:
            with open('/proc/self/clear_refs', 'w') as f:
                f.write('5')  # resets VmHWM (peak RSS) to the current RSS
        except OSError as e:
            raise RuntimeError('peak memory on the CPU is read from /proc/self (Linux only) and '
                               f'needs /proc/self/clear_refs to be writable: {e}') from e
        self.base = self._status('VmRSS')

    def peak_mb(self) -> float:
        if self.device == 'cuda':
            torch.cuda.synchronize()
            return (torch.cuda.max_memory_allocated() - self.base) / _MB
        return (self._status('VmHWM') - self.base) / _MB


class TensorPeak:
    """Peak of the live tensor bytes of c10's CPU allocator over a window, above the level at
    the window's start: from :meth:`begin` (or :meth:`start`, without it) to :meth:`stop`.

    torch has no allocator statistics for the CPU; its profiler, with ``profile_memory=True``,
    records every allocation and free of the CPU allocator as a ``[memory]`` event of signed
    bytes, and their running sum in time order is the live tensor bytes above the start. The
    profiler also records every op, which adds work to the steps and its records to the
    process's memory, so the tool measures this peak in a process of its own, untimed. The
    profiler knows the size of a tensor only if it saw its allocation: a tensor allocated before
    :meth:`start` and freed in the window is not seen (the profiler warns once on stderr,
    ``Memory block of unknown size``), so such a free cannot lower the figure, an upper bound
    then. Starting the profiler before what the window frees is built (:meth:`start` before
    building the model, :meth:`begin` before the steps) makes those frees seen: the window's
    figure is then exact. Memory that kernels take past c10's allocator (oneDNN's own scratch
    buffers) is not counted.
    """

    _WINDOW = 'mmfrozen::tensor_peak_window'

    def __init__(self) -> None:
        self._profiler = None
        self._window = None
        self.peak = 0
        self.end = 0

    def start(self) -> None:
        from torch.profiler import ProfilerActivity, profile
        if torch._C._autograd._profiler_enabled():
            # a second session replaces the running one: the outer profile would lose its end
            raise RuntimeError('TensorPeak.start(): a torch profiler is already running in this '
                               'process; measure the tensor peak outside it')
        self._profiler = profile(activities=[ProfilerActivity.CPU], profile_memory=True)
        self._profiler.start()

    def begin(self) -> None:
        """Start the window here (after :meth:`start`): the figures are above this level."""
        from torch.autograd.profiler import record_function
        if self._profiler is None or self._window is not None:
            raise RuntimeError('TensorPeak.begin() needs start() before it, and once')
        self._window = record_function(self._WINDOW)
        self._window.__enter__()

    def close(self) -> None:
        """Stop profiling without a result (after an error), so the process can profile again;
        nothing if already stopped."""
        if self._profiler is None:
            return
        if self._window is not None:
            self._window.__exit__(None, None, None)
        profiler, self._profiler, self._window = self._profiler, None, None
        profiler.stop()

    def stop(self) -> Tuple[int, int]:
        """(peak, end): the highest live tensor bytes above the window's start, and those at
        its end."""
        from torch._C._autograd import DeviceType
        if self._window is not None:
            self._window.__exit__(None, None, None)
        self._profiler.stop()
        events = list(self._profiler.profiler.kineto_results.events())
        window = self._window is not None
        self._profiler = self._window = None
        memory = [e for e in events
                  if e.name() == '[memory]' and e.device_type() == DeviceType.CPU]
        if window:
            marks = [e for e in events if e.name() == self._WINDOW]
            if len(marks) != 1:
                raise RuntimeError(f'{len(marks)} tensor-peak windows in the profile, not 1')
            first, last = marks[0].start_ns(), marks[0].start_ns() + marks[0].duration_ns()
            memory = [e for e in memory if first <= e.start_ns() <= last]
        self.peak, self.end = running_peak(
            e.nbytes() for e in sorted(memory, key=lambda e: e.start_ns()))
        return self.peak, self.end


def running_peak(deltas: Iterable[int]) -> Tuple[int, int]:
    """(peak, end) of the running sum of ``deltas`` from 0 (the peak is at least 0)."""
    live = peak = 0
    for delta in deltas:
        live += delta
        peak = max(peak, live)
    return peak, live


def _sync(device: str) -> None:
    if device == 'cuda':
        torch.cuda.synchronize()


def optimizer_state_bytes(optim_wrapper, params: Optional[set] = None) -> int:
    """Bytes of the optimizer state's tensors (of the parameters whose ids are in ``params``)."""
    from ...freezing.optimizer import optimizers
    total = 0
    for optimizer in optimizers(optim_wrapper):
        for p, state in optimizer.state.items():
            if params is not None and id(p) not in params:
                continue
            total += sum(v.numel() * v.element_size() for v in state.values()
                         if isinstance(v, torch.Tensor))
    return total


class Bench:
    """One variant, built and ready to step: model, optimizer wrapper, hooks, batch.

    It steps a synthetic batch of the request's size, or the batch passed to :meth:`step`.
    """

    def __init__(self, request: CostRequest) -> None:
        from mmengine.runner import set_random_seed

        from .batch import synthetic_batch
        if request.device == 'cuda' and not torch.cuda.is_available():
            raise RuntimeError('--device cuda but torch sees no CUDA device')
        self.request = request
        self.cfg, self.mode = load_config(request)
        set_random_seed(request.seed)  # same weights for every variant of one architecture
        self.model, self.optim_wrapper, self.hooks = build_for_training(self.cfg, request.device)
        if request.limit and not self.hooks:
            raise ValueError(f'the limit of a frozen step needs a frozen config; '
                             f'{request.config} has no freeze hook')
        self.batch = synthetic_batch(request.batch_size, request.image_size,
                                     _num_classes(self.cfg.model), request.num_boxes,
                                     bool(getattr(self.model, 'with_mask', False)),
                                     seed=request.seed)
        self.state = _IterState(self.model, self.optim_wrapper)
        self.ema, self.ema_info = build_ema(self.cfg, self.state, bool(self.hooks),
                                            request.ema_share)
        self.model.train()  # what the loop does at the start of an epoch
        self.batches = [copy.deepcopy(self.batch)
                        for _ in range(request.warmup + request.iters)]

    def step(self, i: int, data: Optional[dict] = None) -> Dict[str, float]:
        """Training iteration ``i`` on ``data`` (a batch of the dataloader, stepped as it is),
        or on its own copy of the synthetic batch; seconds, or seconds per part for the
        limit."""
        data = self.batches[i] if data is None else data
        device = self.request.device
        self.state.iter = i
        if self.request.limit:
            parts = _limit_step(self.model, self.optim_wrapper, data, device)
            if self.ema is not None:  # the averaged model's update is part of every step
                start = time.perf_counter()
                self.ema.after_train_iter(self.state, i, data)
                _sync(device)
                parts['ema_update'] = time.perf_counter() - start
            return parts
        _sync(device)
        start = time.perf_counter()
        for hook in self.hooks:
            hook.before_train_iter(self.state, i, data)
        outputs = self.model.train_step(data, optim_wrapper=self.optim_wrapper)
        for hook in self.hooks:
            hook.after_train_iter(self.state, i, data, outputs)
        times = {}
        if self.ema is not None:
            _sync(device)
            ema_start = time.perf_counter()
            self.ema.after_train_iter(self.state, i, data, outputs)
            _sync(device)
            times['ema_update'] = time.perf_counter() - ema_start
        _sync(device)
        return dict(step=time.perf_counter() - start, **times)


def summarise(times: List[Dict[str, float]]) -> Dict[str, Any]:
    """Median seconds per iteration (and of the EMA update in it); a limit is the sum of its
    parts' medians."""
    if 'step' in times[0]:
        steps = [t['step'] for t in times]
        out = dict(sec_per_iter=statistics.median(steps), sec_per_iter_all=steps)
        if 'ema_update' in times[0]:  # the EMA update, part of the step, timed on its own too
            out['ema_update_sec'] = statistics.median(t['ema_update'] for t in times)
        return out
    parts = {k: statistics.median(t[k] for t in times) for k in times[0]}
    return dict(sec_per_iter=sum(parts.values()), limit_parts_sec=parts,
                sec_per_iter_all=[sum(t.values()) for t in times])


def measure(request: CostRequest) -> Dict[str, Any]:
    """Build, run ``warmup + iters`` training steps and return the measurements.

    Peak memory is taken over these steps, above the process's memory before the first one
    (model, optimizer, EMA model and batch built); what the EMA model holds of its own is
    ``ema['ema_model_mb']``.
    """
    from mmengine.logging import MMLogger

    from .flops import train_step_flops

    MMLogger.get_instance('mmfrozen_train_cost', log_level='WARNING')
    set_threads([request])
    if request.tensor_peak:
        # the profiler sees the bench built, so a step's free of a tensor built with it (a
        # sweep's) is seen: the window over the steps is exact
        tracker = TensorPeak()
        tracker.start()
        try:
            return measure_tensor_peak(Bench(request), tracker)
        finally:
            tracker.close()  # a failed build or step must not leave the profiler running
    bench = Bench(request)
    model, optim_wrapper, hooks = bench.model, bench.optim_wrapper, bench.hooks
    memory = _Memory(request.device)
    memory.start()
    times = [bench.step(i) for i in range(request.warmup + request.iters)]
    peak = memory.peak_mb()

    backbone_params = {id(p) for p in model.backbone.parameters()}
    result: Dict[str, Any] = dict(
        config=_stem(request.config),
        config_path=request.config,
        variant=request.label,
        mode=bench.mode,
        freezing=('mmdet frozen_stages' if request.stock else
                  'mmfrozen' if hooks else 'none'),
        precision=_frozen_precision(hooks),
        device=request.device,
        batch_size=request.batch_size,
        image_size=list(request.image_size),
        iters=request.iters,
        warmup=request.warmup,
        threads=torch.get_num_threads(),
        peak_memory_mb=peak,
        # CUDA: the caching allocator's peak is that of the live tensor bytes; CPU: measured by
        # measure_tensor_peak in a process of its own (plan.run adds it)
        peak_tensor_mb=peak if request.device == 'cuda' else None,
        trainable_params=sum(p.numel() for p in model.parameters() if p.requires_grad),
        total_params=sum(p.numel() for p in model.parameters()),
        optimizer_state_mb=optimizer_state_bytes(optim_wrapper) / _MB,
        backbone_optimizer_state_mb=optimizer_state_bytes(optim_wrapper, backbone_params) / _MB,
        ema=bench.ema_info,
    )
    result.update(summarise(times[request.warmup:]))
    result['train_flops'] = None
    if request.flops and not request.limit:
        data = model.data_preprocessor(copy.deepcopy(bench.batch), True)
        flops = train_step_flops(model, data)
        result['train_flops'] = flops['total']
        result['flops'] = flops
    return result


def measure_tensor_peak(bench: Bench, tracker: Optional[TensorPeak] = None) -> Dict[str, Any]:
    """The peak of live tensor bytes over the bench's ``warmup + iters`` steps, above the level
    before the first (CPU: :class:`TensorPeak`; the steps are not timed), and the tensor bytes
    the steps left alive (the optimizer's state, ...).

    ``tracker``: a :class:`TensorPeak` started before the bench was built (see :func:`measure`);
    without it, one is started here and a step's free of a tensor from before is not seen.
    """
    request = bench.request
    if request.device != 'cpu':
        raise ValueError('the tensor peak is measured on the CPU; on CUDA the allocator peak '
                         'is peak_memory_mb')
    if tracker is None:
        tracker = TensorPeak()
        tracker.start()
    try:
        gc.collect()
        tracker.begin()
        for i in range(request.warmup + request.iters):
            bench.step(i)
        peak, end = tracker.stop()
    finally:
        tracker.close()
    return dict(variant=request.label, peak_tensor_mb=peak / _MB,
                tensor_mb_after_steps=end / _MB)


def time_interleaved(requests: List[CostRequest]) -> Dict[str, Dict[str, Any]]:
    """Time several variants in one process, one iteration of each in turn.

    On a shared machine the load changes from minute to minute; stepping the variants
    round-robin exposes them to the same load, so their ratios stay meaningful. Returns, per
    request label, the median seconds per iteration (and the limit's parts).
    """
    from mmengine.logging import MMLogger
    MMLogger.get_instance('mmfrozen_train_cost', log_level='WARNING')
    labels = [r.label for r in requests]
    if len(set(labels)) != len(labels):
        raise ValueError(f'labels must be unique, got {labels}')
    rounds = {(r.warmup, r.iters) for r in requests}
    if len(rounds) != 1:
        raise ValueError('interleaved variants need the same warmup and iters')
    warmup, iters = rounds.pop()
    set_threads(requests)
    benches = [Bench(r) for r in requests]
    times = round_robin(benches, range(warmup + iters), warmup)
    return {label: summarise(t) for label, t in times.items()}


def round_robin(benches: List[Bench], iterations: Iterable[int], warmup: int,
                batches: Optional[List[dict]] = None) -> Dict[str, List[Dict[str, float]]]:
    """Step the benches in turn, one iteration of each, over ``iterations``; per label, the
    times of every iteration after the first ``warmup``.

    ``batches``: one batch per iteration, each bench stepping its own copy of it (made before
    its step is timed); without them every bench steps its synthetic batch.
    """
    times: Dict[str, List[Dict[str, float]]] = {b.request.label: [] for b in benches}
    for n, i in enumerate(iterations):
        for bench in benches:
            data = None if batches is None else copy.deepcopy(batches[n])
            t = bench.step(i, data)
            if n >= warmup:
                times[bench.request.label].append(t)
    return times


def set_threads(requests: List[CostRequest]) -> None:
    """Set torch's CPU threads to the requests' one thread count (``None``: leave them)."""
    threads = {r.threads for r in requests}
    if len(threads) != 1:
        raise ValueError(f'one thread count per process, got {threads}')
    n = threads.pop()
    if n is not None:
        if n < 1:
            raise ValueError(f'threads must be >= 1, got {n}')
        torch.set_num_threads(n)


def _limit_step(model: nn.Module, optim_wrapper, data: dict, device: str) -> Dict[str, float]:
    """One frozen step as its parts; returns the seconds of each."""
    _sync(device)
    t0 = time.perf_counter()
    with optim_wrapper.optim_context(model):
        data = model.data_preprocessor(data, True)
    _sync(device)
    t1 = time.perf_counter()
    with torch.no_grad():
        feats = _detach(model.backbone(data['inputs']))
    _sync(device)
    t2 = time.perf_counter()
    with _backbone_replaced(model, feats), optim_wrapper.optim_context(model):
        losses = model._run_forward(data, mode='loss')
        parsed, _ = model.parse_losses(losses)
        optim_wrapper.update_params(parsed)
    _sync(device)
    t3 = time.perf_counter()
    return dict(preprocess=t1 - t0, backbone_no_grad=t2 - t1, trainable_step=t3 - t2)


def _num_classes(model_cfg) -> int:
    found = []

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get('num_classes'), int):
                found.append(node['num_classes'])
            for v in node.values():
                walk(v)
        elif isinstance(node, (list, tuple)):
            for v in node:
                walk(v)

    walk(model_cfg)
    if not found:
        raise ValueError('no num_classes in the model config')
    return min(found)


def _frozen_precision(hooks) -> Optional[str]:
    specs = [s for h in hooks for s in h.specs]
    if not specs:
        return None
    return ','.join(sorted({s.precision + ('-cl' if s.channels_last else '') for s in specs}))


def _stem(path: str) -> str:
    import os.path as osp
    return osp.splitext(osp.basename(path))[0]


def main(argv: Optional[List[str]] = None) -> None:
    """``python -m mmfrozen.analysis.cost.measure REQUEST.json RESULT.json``."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        raise SystemExit('usage: python -m mmfrozen.analysis.cost.measure REQUEST.json RESULT.json')
    logging.getLogger('py.warnings').setLevel(logging.ERROR)
    with open(argv[0]) as f:
        raw = json.load(f)
    if isinstance(raw, list):
        result = time_interleaved([request_from_json(r) for r in raw])
    else:
        result = measure(request_from_json(raw))
    with open(argv[1], 'w') as f:
        json.dump(result, f, indent=1)


def request_to_json(request: CostRequest) -> Dict[str, Any]:
    """The request as JSON-able dict (what :func:`main` reads)."""
    d = asdict(request)
    d['image_size'] = list(d['image_size'])
    return d


def request_from_json(d: Dict[str, Any]) -> CostRequest:
    """Inverse of :func:`request_to_json`."""
    return CostRequest(**dict(d, image_size=tuple(d['image_size'])))


if __name__ == '__main__':
    main()
