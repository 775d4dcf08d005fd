"""The report of a cost run: ratios between its measurements, and the markdown tables."""
from typing import Any, Dict, List, Optional


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
                ratios['tensor_memory_vs_ema_copy'] = _ratio(row.get('peak_tensor_mb'),
                                                             ema_copy.get('peak_tensor_mb'))
            if ft is not None and row is not ft:
                ratios['time_vs_ft'] = _ratio(row['sec_per_iter'], ft['sec_per_iter'])
                ratios['memory_vs_ft'] = _ratio(row['peak_memory_mb'], ft['peak_memory_mb'])
                ratios['tensor_memory_vs_ft'] = _ratio(row.get('peak_tensor_mb'),
                                                       ft.get('peak_tensor_mb'))
                ratios['flops_vs_ft'] = _ratio(row['train_flops'], ft['train_flops'])
                ratios['trainable_params_vs_ft'] = _ratio(row['trainable_params'],
                                                          ft['trainable_params'])
            if stock is not None and row['freezing'] == 'mmfrozen':
                ratios['time_vs_stock'] = _ratio(row['sec_per_iter'], stock['sec_per_iter'])
                ratios['memory_vs_stock'] = _ratio(row['peak_memory_mb'],
                                                   stock['peak_memory_mb'])
                ratios['tensor_memory_vs_stock'] = _ratio(row.get('peak_tensor_mb'),
                                                          stock.get('peak_tensor_mb'))
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
    tensors = [r.get('peak_tensor_mb') for r in members]
    if None not in tensors:  # measured for every member (not with --no-tensor-peak)
        separate.update(peak_tensor_mb_max=max(tensors), peak_tensor_mb_sum=sum(tensors))
        q['tensor_memory_vs_member'] = _ratio(sweep.get('peak_tensor_mb'), tensors[0])
        q['tensor_memory_vs_separate_max'] = _ratio(sweep.get('peak_tensor_mb'), max(tensors))
        q['tensor_memory_vs_separate_sum'] = _ratio(sweep.get('peak_tensor_mb'), sum(tensors))
    q['flops_vs_separate'] = _ratio(sweep['train_flops'], separate['train_flops'])


def _fmt(value: Optional[float], spec: str) -> str:
    return '-' if value is None else format(value, spec)


def _stock_memory(q: Dict[str, Optional[float]]) -> str:
    return _both(q, 'memory_vs_stock', '.3f') if 'memory_vs_stock' in q else '-'


def _both(q: Dict[str, Optional[float]], key: str, spec: str) -> str:
    """``<RSS ratio> / <tensor ratio>`` of ratio ``key`` (``memory_vs_...``)."""
    return f"{_fmt(q.get(key), spec)} / {_fmt(q.get('tensor_' + key), spec)}"


def markdown(results: List[Dict[str, Any]]) -> str:
    """The results as markdown: one row per measurement, then the limits' parts.

    ``peak MB`` is the peak RSS on the CPU (the allocator's peak on CUDA), ``tensor peak MB``
    the peak of live tensor bytes; ``mem x stock`` gives both against stock's, RSS / tensors.
    """
    lines = [
        '| config | variant | mode | frozen precision | s/iter | x ft | x stock | x limit '
        '| peak MB | tensor peak MB | mem x ft | mem x stock (RSS / tensors) | trainable '
        '| total | optim. state MB (backbone) | train GFLOPs | FLOPs x ft |',
        '|' + '---|' * 17,
    ]
    for r in results:
        q = r.get('ratios', {})
        flops = None if r['train_flops'] is None else r['train_flops'] / 1e9
        lines.append(
            f"| {r['config']} | {r['variant']} | {r['mode']} | {r['precision'] or '-'} "
            f"| {r['sec_per_iter']:.3f} | {_fmt(q.get('time_vs_ft'), '.2f')} "
            f"| {_fmt(q.get('time_vs_stock'), '.3f')} | {_fmt(q.get('time_vs_limit'), '.3f')} "
            f"| {r['peak_memory_mb']:.0f} | {_fmt(r.get('peak_tensor_mb'), '.0f')} "
            f"| {_fmt(q.get('memory_vs_ft'), '.2f')} "
            f"| {_stock_memory(q)} "
            f"| {r['trainable_params'] / 1e6:.2f}M | {r['total_params'] / 1e6:.2f}M "
            f"| {r['optimizer_state_mb']:.1f} ({r['backbone_optimizer_state_mb']:.1f}) "
            f"| {_fmt(flops, '.1f')} | {_fmt(q.get('flops_vs_ft'), '.2f')} |")
    sweeps = [r for r in results if r['variant'] == 'sweep' and 'separate' in r]
    if sweeps:
        lines += ['', '| sweep | members | s/iter | x limit | x one member | x separate '
                  '| separate s/iter (sum) | peak MB | tensor peak MB '
                  '| mem x one member (RSS / tensors) | mem x separate max (RSS / tensors) '
                  '| mem x separate sum (RSS / tensors) | train GFLOPs x separate |',
                  '|' + '---|' * 13]
        for r in sweeps:
            q, sep = r['ratios'], r['separate']
            lines.append(
                f"| {r['config']} | {len(sep['members'])}: {', '.join(sep['members'])} "
                f"| {r['sec_per_iter']:.3f} | {_fmt(q.get('time_vs_limit'), '.3f')} "
                f"| {_fmt(q.get('time_vs_member'), '.2f')} "
                f"| **{_fmt(q.get('time_vs_separate'), '.2f')}** | {sep['sec_per_iter']:.3f} "
                f"| {r['peak_memory_mb']:.0f} | {_fmt(r.get('peak_tensor_mb'), '.0f')} "
                f"| {_both(q, 'memory_vs_member', '.2f')} "
                f"| {_both(q, 'memory_vs_separate_max', '.2f')} "
                f"| {_both(q, 'memory_vs_separate_sum', '.2f')} "
                f"| {_fmt(q.get('flops_vs_separate'), '.2f')} |")
    emas = [r for r in results if r.get('ema')]
    if emas:
        lines += ['', '| config | variant | EMA | frozen tensors shared (MB) | EMA model MB '
                  '| averaged tensors | EMA update s | s/iter | x ema-copy | step peak MB '
                  '| tensor peak MB | mem x ema-copy (RSS / tensors) |', '|' + '---|' * 12]
        for r in emas:
            e, q = r['ema'], r.get('ratios', {})
            shared = f"{e['shared_tensors']} ({e['shared_mb']:.1f})" if e['shares_frozen'] else '-'
            lines.append(
                f"| {r['config']} | {r['variant']} | {e['type']} | {shared} "
                f"| {e['ema_model_mb']:.1f} | {e['averaged_tensors']} "
                f"| {_fmt(r.get('ema_update_sec'), '.4f')} | {r['sec_per_iter']:.3f} "
                f"| {_fmt(q.get('time_vs_ema_copy'), '.3f')} | {r['peak_memory_mb']:.0f} "
                f"| {_fmt(r.get('peak_tensor_mb'), '.0f')} "
                f"| {_both(q, 'memory_vs_ema_copy', '.3f')} |")
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
