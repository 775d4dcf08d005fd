"""Training cost of frozen-backbone detectors, against the fine-tuned twin and the limit.

"Proper Reuse of Image Classification Features Improves Object Detection" (Vasconcelos,
Birodkar, Dumoulin, CVPR 2022) reports 30-40% fewer training FLOPs per step with a frozen
backbone: no backward pass through it, no stored activations, no optimizer state. This module
measures what a training step of a config costs here (time, peak memory, parameters, optimizer
state, FLOPs), next to

* its fine-tuned twin (``--twin``, found by the naming rule),
* stock mmdet's way of freezing (``--stock``: the fine-tuned config with
  ``frozen_stages=num_stages``, ``norm_eval=True``, no mmfrozen hook),
* the limit of a frozen step, measured as its parts (preprocessing, the backbone's no-grad
  forward, forward/backward/step of the trainable rest on the detached features),
* the frozen backbone at reduced precision / channels-last (``--frozen-precision bf16-cl``),
* with an ``EMAHook`` in a frozen config, its averaged model copying the frozen tensors as
  mmengine's hook alone does (``ema-copy``) against sharing them as mmfrozen's runner makes it
  (the config as written); the EMA update is part of every measured step.

Every measurement runs in a fresh process (:mod:`mmfrozen.analysis.cost.measure`), one after the
other, so peak memory is that of one measurement alone. Results are a markdown table on stdout
and a JSON file the results table merges.
"""
import argparse
import datetime
import json
import os
import os.path as osp
import platform
import subprocess
import sys
import tempfile
from dataclasses import replace
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from .measure import CostRequest, request_to_json

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

    from ...engine.config_mode import config_mode
    from ...sweep import is_sweep_config
    from ..config_name import twin_config_path
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
            return json.load(f)


def _ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return None if a is None or not b else a / b


def add_ratios(results: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Add ``ratios`` to every row: vs the fine-tuned row, stock mmdet and the matching limit.

    ``time_vs_limit`` of a frozen row divides by the limit with the same frozen precision.
    """
    by_group: Dict[str, List[Dict[str, Any]]] = {}
    for row in results:
        by_group.setdefault(row['group'], []).append(row)
    for rows in by_group.values():
        variants = {r['variant']: r for r in rows}
        ft = variants.get('ft-twin') or next(
            (r for r in rows if r['variant'] == 'as-config' and r['mode'] == 'ft'), None)
        stock = variants.get('stock-frozen-stages')
        ema_copy = variants.get('ema-copy')
        for row in rows:
            ratios: Dict[str, Optional[float]] = {}
            if ema_copy is not None and row['variant'] == 'as-config':
                ratios['time_vs_ema_copy'] = _ratio(row['sec_per_iter'], ema_copy['sec_per_iter'])
                ratios['memory_vs_ema_copy'] = _ratio(row['peak_memory_mb'],
                                                      ema_copy['peak_memory_mb'])
            if ft is not None and row is not ft:
                ratios['time_vs_ft'] = _ratio(row['sec_per_iter'], ft['sec_per_iter'])
                ratios['memory_vs_ft'] = _ratio(row['peak_memory_mb'], ft['peak_memory_mb'])
                ratios['flops_vs_ft'] = _ratio(row['train_flops'], ft['train_flops'])
                ratios['trainable_params_vs_ft'] = _ratio(row['trainable_params'],
                                                          ft['trainable_params'])
            if stock is not None and row['freezing'] == 'mmfrozen':
                ratios['time_vs_stock'] = _ratio(row['sec_per_iter'], stock['sec_per_iter'])
                ratios['memory_vs_stock'] = _ratio(row['peak_memory_mb'],
                                                   stock['peak_memory_mb'])
            if not row['variant'].startswith('limit'):
                suffix = row['variant'][len('frozen'):] if row['variant'].startswith(
                    'frozen-') else ''
                limit = variants.get('limit' + suffix)
                if limit is not None and row['freezing'] == 'mmfrozen':
                    ratios['time_vs_limit'] = _ratio(row['sec_per_iter'], limit['sec_per_iter'])
                if limit is not None and row is stock:
                    ratios['time_vs_limit'] = _ratio(row['sec_per_iter'], limit['sec_per_iter'])
            row['ratios'] = ratios
        if 'sweep' in variants:
            _add_sweep_ratios(variants)
    return results


def _add_sweep_ratios(variants: Dict[str, Dict[str, Any]]) -> None:
    """Ratios of a sweep's row: to its limit, to its first member alone, and to all its members
    trained separately (time: the sum of their steps; memory: the largest of their peaks, as
    when they run one after another, and their sum, as when they run side by side)."""
    sweep, limit = variants['sweep'], variants.get('sweep-limit')
    members = [r for v, r in variants.items() if v.startswith('member-')]
    times = [r['sec_per_iter'] for r in members]
    peaks = [r['peak_memory_mb'] for r in members]
    flops = [r['train_flops'] for r in members]
    separate = dict(members=[r['variant'][len('member-'):] for r in members],
                    sec_per_iter=sum(times), peak_memory_mb_max=max(peaks),
                    peak_memory_mb_sum=sum(peaks),
                    train_flops=None if None in flops else sum(flops))
    sweep['separate'] = separate
    q = sweep['ratios']
    q['time_vs_limit'] = _ratio(sweep['sec_per_iter'], limit and limit['sec_per_iter'])
    q['time_vs_member'] = _ratio(sweep['sec_per_iter'], times[0])
    q['time_vs_separate'] = _ratio(sweep['sec_per_iter'], separate['sec_per_iter'])
    q['memory_vs_member'] = _ratio(sweep['peak_memory_mb'], peaks[0])
    q['memory_vs_separate_max'] = _ratio(sweep['peak_memory_mb'], separate['peak_memory_mb_max'])
    q['memory_vs_separate_sum'] = _ratio(sweep['peak_memory_mb'], separate['peak_memory_mb_sum'])
    q['flops_vs_separate'] = _ratio(sweep['train_flops'], separate['train_flops'])


def _fmt(value: Optional[float], spec: str) -> str:
    return '-' if value is None else format(value, spec)


def markdown(results: List[Dict[str, Any]]) -> str:
    """The results as markdown: one row per measurement, then the limits' parts."""
    lines = [
        '| config | variant | mode | frozen precision | s/iter | x ft | x stock | x limit '
        '| peak MB | mem x ft | trainable | total | optim. state MB (backbone) '
        '| train GFLOPs | FLOPs x ft |',
        '|' + '---|' * 15,
    ]
    for r in results:
        q = r.get('ratios', {})
        flops = None if r['train_flops'] is None else r['train_flops'] / 1e9
        lines.append(
            f"| {r['config']} | {r['variant']} | {r['mode']} | {r['precision'] or '-'} "
            f"| {r['sec_per_iter']:.3f} | {_fmt(q.get('time_vs_ft'), '.2f')} "
            f"| {_fmt(q.get('time_vs_stock'), '.3f')} | {_fmt(q.get('time_vs_limit'), '.3f')} "
            f"| {r['peak_memory_mb']:.0f} | {_fmt(q.get('memory_vs_ft'), '.2f')} "
            f"| {r['trainable_params'] / 1e6:.2f}M | {r['total_params'] / 1e6:.2f}M "
            f"| {r['optimizer_state_mb']:.1f} ({r['backbone_optimizer_state_mb']:.1f}) "
            f"| {_fmt(flops, '.1f')} | {_fmt(q.get('flops_vs_ft'), '.2f')} |")
    sweeps = [r for r in results if r['variant'] == 'sweep' and 'separate' in r]
    if sweeps:
        lines += ['', '| sweep | members | s/iter | x limit | x one member | x separate '
                  '| separate s/iter (sum) | peak MB | mem x one member '
                  '| mem x separate (max / sum) | train GFLOPs x separate |',
                  '|' + '---|' * 11]
        for r in sweeps:
            q, sep = r['ratios'], r['separate']
            lines.append(
                f"| {r['config']} | {len(sep['members'])}: {', '.join(sep['members'])} "
                f"| {r['sec_per_iter']:.3f} | {_fmt(q.get('time_vs_limit'), '.3f')} "
                f"| {_fmt(q.get('time_vs_member'), '.2f')} "
                f"| **{_fmt(q.get('time_vs_separate'), '.2f')}** | {sep['sec_per_iter']:.3f} "
                f"| {r['peak_memory_mb']:.0f} | {_fmt(q.get('memory_vs_member'), '.2f')} "
                f"| {_fmt(q.get('memory_vs_separate_max'), '.2f')} / "
                f"{_fmt(q.get('memory_vs_separate_sum'), '.2f')} "
                f"| {_fmt(q.get('flops_vs_separate'), '.2f')} |")
    emas = [r for r in results if r.get('ema')]
    if emas:
        lines += ['', '| config | variant | EMA | frozen tensors shared (MB) | EMA model MB '
                  '| averaged tensors | EMA update s | s/iter | x ema-copy | step peak MB '
                  '| mem x ema-copy |', '|' + '---|' * 11]
        for r in emas:
            e, q = r['ema'], r.get('ratios', {})
            shared = f"{e['shared_tensors']} ({e['shared_mb']:.1f})" if e['shares_frozen'] else '-'
            lines.append(
                f"| {r['config']} | {r['variant']} | {e['type']} | {shared} "
                f"| {e['ema_model_mb']:.1f} | {e['averaged_tensors']} "
                f"| {_fmt(r.get('ema_update_sec'), '.4f')} | {r['sec_per_iter']:.3f} "
                f"| {_fmt(q.get('time_vs_ema_copy'), '.3f')} | {r['peak_memory_mb']:.0f} "
                f"| {_fmt(q.get('memory_vs_ema_copy'), '.3f')} |")
    limits = [r for r in results if 'limit_parts_sec' in r]
    if limits:
        ema = any('ema_update' in r['limit_parts_sec'] for r in limits)
        lines += ['', '| config | limit of | preprocess s | backbone no-grad s '
                  '| trainable fwd+bwd+step s |' + (' EMA update s |' if ema else '') +
                  ' limit s/iter |', '|' + '---|' * (7 if ema else 6)]
        for r in limits:
            p = r['limit_parts_sec']
            of = ('sweep' if r['variant'] == 'sweep-limit' else
                  'frozen' + r['variant'][len('limit'):])
            update = f" {_fmt(p.get('ema_update'), '.4f')} |" if ema else ''
            lines.append(f"| {r['config']} | {of} | {p['preprocess']:.3f} "
                         f"| {p['backbone_no_grad']:.3f} | {p['trainable_step']:.3f} |"
                         f"{update} {r['sec_per_iter']:.3f} |")
    return '\n'.join(lines)


def machine_description() -> str:
    """CPU model, core count and GPU (if any) of this machine."""
    import torch
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(line.split(':', 1)[1].strip() for line in f
                       if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    gpu = (f'GPU {torch.cuda.get_device_name(0)}' if torch.cuda.is_available() else 'no GPU')
    return f'{platform.machine()}, {os.cpu_count()} cores ({cpu}), {gpu}'


def run(planned: List[Tuple[str, CostRequest]], timing: str = 'interleaved',
        log=sys.stderr) -> Dict[str, Any]:
    """Measure every planned request; return the JSON document.

    Every request is measured in a fresh process of its own (peak memory, parameters,
    optimizer state, FLOPs, and its time). With ``timing='interleaved'`` those processes run
    only 1 warm-up + 1 timed step, and the seconds per iteration come from one more process per
    config that steps all its variants round-robin for ``warmup + iters`` rounds, so every
    variant sees the same machine load; the isolated time is kept as ``sec_per_iter_isolated``.
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


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description='Training cost per step of detector configs: time, peak memory, '
        'parameters, optimizer state, FLOPs; frozen vs fine-tuned vs the limit.')
    parser.add_argument('configs', nargs='+', help='config files')
    parser.add_argument('--twin', action='store_true',
                        help='also measure the fine-tuned twin of each (non-ft) config')
    parser.add_argument('--stock', action='store_true',
                        help="also measure stock mmdet freezing (frozen_stages, norm_eval) of "
                        'the fine-tuned config')
    parser.add_argument('--no-limit', dest='limit', action='store_false',
                        help='do not measure the limit of the frozen step')
    parser.add_argument('--frozen-precision', nargs='+', default=[], metavar='VARIANT',
                        help='also measure the frozen backbone as bf16|fp16|fp32 with optional '
                        '"-cl" (channels-last), e.g. bf16-cl fp16-cl')
    parser.add_argument('--batch-size', type=int, help='images per step (default: config)')
    parser.add_argument('--image-size', type=int, nargs=2, metavar=('H', 'W'),
                        help='image size (default: the config\'s largest training size)')
    parser.add_argument('--device', choices=['cpu', 'cuda'], default=None,
                        help='default: cuda if available, else cpu')
    parser.add_argument('--iters', type=int, default=3, help='timed iterations (median)')
    parser.add_argument('--timing', choices=['interleaved', 'isolated'], default='interleaved',
                        help='interleaved (default): time all variants of a config round-robin '
                        'in one process; isolated: time each in its own process')
    parser.add_argument('--warmup', type=int, default=1, help='untimed iterations first')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch CPU threads per measurement process (default: torch\'s, one '
                        'per core; 1 is far more stable on a machine shared with other jobs)')
    parser.add_argument('--num-boxes', type=int, default=8, help='boxes per synthetic image')
    parser.add_argument('--no-flops', dest='flops', action='store_false',
                        help='skip the FLOP count')
    parser.add_argument('--out', default=None,
                        help='JSON output (default: work_dirs/train_cost/<date>.json)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of every config, mmengine style')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Console entry point: measure, write the JSON, print the table; returns 0."""
    args = parse_args(argv)
    import torch
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    planned = plan(args.configs, twin=args.twin, stock=args.stock, limit=args.limit,
                   frozen_precision=args.frozen_precision, batch_size=args.batch_size,
                   image_size=args.image_size, device=device, iters=args.iters,
                   warmup=args.warmup, flops=args.flops, num_boxes=args.num_boxes,
                   threads=args.threads,
                   cfg_options=args.cfg_options)
    doc = run(planned, timing=args.timing)
    out = args.out or osp.join('work_dirs', 'train_cost',
                               doc['date'].replace(':', '') + '.json')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w') as f:
        json.dump(doc, f, indent=1)
    print(f'## Training cost per step ({doc["machine"]}, torch {doc["torch"]}, {doc["date"]})\n')
    print(markdown(doc['results']))
    print(f'\nJSON: {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
