"""The measurements of a cost run: which to make (:func:`plan`) and making them (:func:`run`).

Every measurement runs in a fresh process (:mod:`mmfrozen.analysis.cost.measure`), one after the
other, so peak memory is that of one measurement alone; with interleaved timing the variants of
a config are then stepped round-robin in one more process, so load hits them alike.
"""
import datetime
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
from dataclasses import replace
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from .machine import machine_description
from .measure import CostRequest, request_to_json
from .report import add_ratios

_UNSEEN_FREE = 'Memory block of unknown size'
_SCHEMA_KEYS = ('config', 'mode', 'device', 'batch_size', 'image_size', 'sec_per_iter',
                'peak_memory_mb', 'trainable_params', 'total_params', 'optimizer_state_mb',
                'train_flops')


def plan(configs: Sequence[str],
         twin: bool = False,
         stock: bool = False,
         limit: bool = True,
         frozen_precision: Sequence[str] = (),
         batch_size: Optional[int] = None,
         image_size: Optional[Tuple[int, int]] = None,
         device: str = 'cpu',
         iters: int = 3,
         warmup: int = 1,
         flops: bool = True,
         num_boxes: int = 8,
         threads: Optional[int] = None,
         cfg_options: Optional[Dict[str, Any]] = None) -> List[Tuple[str, CostRequest]]:
    """The measurements to make, as ``(group, request)``; ``group`` is the config's stem.

    Per config: the config as written; with ``limit`` (frozen configs) the limit of its step;
    each ``frozen_precision`` variant (and its limit); with ``twin`` the fine-tuned twin; with
    ``stock`` stock mmdet's ``frozen_stages`` freezing of the fine-tuned config; for a frozen
    config with an ``EMAHook``, ``ema-copy``: its EMA model copying the frozen tensors. Batch
    size and image size default to the config's training settings.

    Raises:
        ValueError / FileNotFoundError: a variant that the config cannot have (see
            :mod:`mmfrozen.analysis.cost.settings`).
    """
    from mmengine.config import Config

    from ...config import config_mode, twin_config_path
    from ...sweep import is_sweep_config
    from .measure import ema_hook_cfgs
    from .settings import parse_precision_variant, training_batch_size, training_image_size
    if iters < 1 or warmup < 0:
        raise ValueError(f'need iters >= 1 and warmup >= 0, got {iters}, {warmup}')
    planned = []
    for path in configs:
        if not osp.isfile(path):
            raise FileNotFoundError(f'config not found: {path}')
        path = osp.abspath(path)
        cfg = Config.fromfile(path)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        mode = config_mode(cfg)
        frozen = mode.startswith('frozen')
        common = dict(
            batch_size=batch_size or training_batch_size(cfg),
            image_size=tuple(image_size or training_image_size(cfg)),
            device=device, iters=iters, warmup=warmup, num_boxes=num_boxes, threads=threads,
            cfg_options=dict(cfg_options or {}))
        group = osp.splitext(osp.basename(path))[0]
        if is_sweep_config(cfg):
            if twin or stock or frozen_precision:
                raise ValueError(f'{group} is a sweep: --twin, --stock and --frozen-precision '
                                 "apply to detector configs; measure a member's config for them")
            planned += _sweep_requests(group, path, cfg, limit, flops, common)
            continue
        ft_path = path if mode == 'ft' else None
        if twin:
            ft_path = twin_config_path(path)
            planned.append((group, CostRequest(ft_path, 'ft-twin', flops=flops, **common)))
        if stock:
            if ft_path is None:
                ft_path = twin_config_path(path)
            planned.append((group, CostRequest(ft_path, 'stock-frozen-stages', stock=True,
                                               flops=flops, **common)))
        planned.append((group, CostRequest(path, 'as-config', flops=flops, **common)))
        if frozen and ema_hook_cfgs(cfg):
            planned.append((group, CostRequest(path, 'ema-copy', ema_share=False, flops=False,
                                               **common)))
        if limit and frozen:
            planned.append((group, CostRequest(path, 'limit', limit=True, flops=False,
                                               **common)))
        for name in frozen_precision:
            precision, channels_last = parse_precision_variant(name)
            if not frozen:
                raise ValueError(f'--frozen-precision {name}: {group} is not frozen ({mode})')
            kw = dict(precision=precision, channels_last=channels_last, **common)
            planned.append((group, CostRequest(path, f'frozen-{name}', flops=flops, **kw)))
            if limit:
                planned.append((group, CostRequest(path, f'limit-{name}', limit=True,
                                                   flops=False, **kw)))
    return planned


def _sweep_requests(group: str, path: str, cfg, limit: bool, flops: bool,
                    common: Dict[str, Any]) -> List[Tuple[str, CostRequest]]:
    """A sweep's measurements: the sweep (``sweep``), the limit of its step (``sweep-limit``:
    the backbone's no-grad forward once plus every member's trainable part) and each member
    trained on its own (``member-<name>``: the member's config with its ``cfg_options``)."""
    from ...sweep import sweep_member_sources
    out = [(group, CostRequest(path, 'sweep', flops=flops, **common))]
    if limit:
        out.append((group, CostRequest(path, 'sweep-limit', limit=True, flops=False, **common)))
    for name, (member, options) in sweep_member_sources(cfg).items():
        kw = dict(common, cfg_options={**options, **common['cfg_options']})
        out.append((group, CostRequest(member, f'member-{name}', flops=flops, **kw)))
    return out


def run_request(request: Union[CostRequest, List[CostRequest]]) -> Dict[str, Any]:
    """Measure ``request`` in a fresh Python process and return its result dict.

    A list of requests is timed interleaved in one process
    (:func:`mmfrozen.analysis.cost.measure.time_interleaved`).

    Raises:
        RuntimeError: the measurement process failed (its stderr is included).
    """
    import mmfrozen
    root = osp.dirname(osp.dirname(osp.abspath(mmfrozen.__file__)))  # the process imports it too
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join([root] + [p for p in [env.get('PYTHONPATH')] if p])
    if not isinstance(request, list) and request.tensor_peak:
        # the warning of a free the profiler missed (below) is a c10 WARNING: a user's
        # TORCH_CPP_LOG_LEVEL=ERROR would hide it
        env['TORCH_CPP_LOG_LEVEL'] = 'WARNING'
    with tempfile.TemporaryDirectory(prefix='mmfrozen_cost_') as tmp:
        req, res = osp.join(tmp, 'request.json'), osp.join(tmp, 'result.json')
        with open(req, 'w') as f:
            json.dump([request_to_json(r) for r in request] if isinstance(request, list) else
                      request_to_json(request), f)
        proc = subprocess.run(
            [sys.executable, '-m', 'mmfrozen.analysis.cost.measure', req, res],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0 or not osp.isfile(res):
            tail = '\n'.join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
            what = ([r.label for r in request] if isinstance(request, list) else
                    f'{request.label} of {request.config}')
            raise RuntimeError(f'measuring {what} failed (exit code {proc.returncode}):\n{tail}')
        with open(res) as f:
            result = json.load(f)
        if not isinstance(request, list) and request.tensor_peak:
            # c10's CPU allocator warns (once, on stderr) at a free whose allocation the
            # profiler did not see; the figure is then an upper bound
            result['tensor_peak_all_frees_seen'] = _UNSEEN_FREE not in proc.stderr
        return result


def run(planned: List[Tuple[str, CostRequest]], timing: str = 'interleaved',
        log=sys.stderr, tensor_peak: bool = True) -> Dict[str, Any]:
    """Measure every planned request; return the JSON document.

    Every request is measured in a fresh process of its own (peak memory, parameters,
    optimizer state, FLOPs, and its time). With ``timing='interleaved'`` those processes run
    only 1 warm-up + 1 timed step, and the seconds per iteration come from one more process per
    config that steps all its variants round-robin for ``warmup + iters`` rounds, so every
    variant sees the same machine load; the isolated time is kept as ``sec_per_iter_isolated``.
    On the CPU, with ``tensor_peak``, one more fresh process per request runs the same steps
    untimed under :class:`~mmfrozen.analysis.cost.measure.TensorPeak` for ``peak_tensor_mb``
    (without it, the field is None); on CUDA it is the allocator's peak.
    """
    import torch
    if timing not in ('interleaved', 'isolated'):
        raise ValueError(f'timing must be interleaved or isolated, got {timing!r}')
    results = []
    for i, (group, request) in enumerate(planned, 1):
        print(f'[{i}/{len(planned)}] {group}: {request.label} (fresh process)', file=log,
              flush=True)
        alone = replace(request, warmup=1, iters=1) if timing == 'interleaved' else request
        row = run_request(alone)
        row['group'] = group
        missing = [k for k in _SCHEMA_KEYS if k not in row]
        if missing:
            raise RuntimeError(f'measurement result lacks {missing}')
        print(f'    {row["sec_per_iter"]:.3f} s/iter, {row["peak_memory_mb"]:.0f} MB peak',
              file=log, flush=True)
        if tensor_peak and request.device == 'cpu':
            print(f'[{i}/{len(planned)}] {group}: {request.label} tensor peak (fresh process, '
                  'untimed)', file=log, flush=True)
            tensors = run_request(replace(alone, tensor_peak=True))
            row.update(peak_tensor_mb=tensors['peak_tensor_mb'],
                       tensor_mb_after_steps=tensors['tensor_mb_after_steps'],
                       tensor_peak_all_frees_seen=tensors.get('tensor_peak_all_frees_seen'))
            print(f'    {row["peak_tensor_mb"]:.0f} MB tensor peak', file=log, flush=True)
            if row['tensor_peak_all_frees_seen'] is False:
                print('    the process freed a tensor allocated before the profiler started: '
                      'the tensor peak is an upper bound', file=log, flush=True)
        # the memory figures' steps (the row's iters and warmup become the interleaved
        # timing's below)
        row['memory_steps'] = alone.warmup + alone.iters
        row['timing'] = 'isolated'
        results.append(row)
    if timing == 'interleaved':
        for group in dict.fromkeys(g for g, _ in planned):
            requests = [r for g, r in planned if g == group]
            print(f'{group}: timing {[r.label for r in requests]} interleaved', file=log,
                  flush=True)
            times = run_request(requests)
            for row, request in zip([r for r in results if r['group'] == group], requests):
                row['sec_per_iter_isolated'] = row['sec_per_iter']
                row.pop('limit_parts_sec', None)
                row.update(times[request.label], timing='interleaved', iters=request.iters,
                           warmup=request.warmup)
    return dict(machine=machine_description(),
                date=datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%MZ'),
                torch=torch.__version__, results=add_ratios(results))
