"""The mini-study: the experiment of "Proper Reuse of Image Classification Features Improves
Object Detection" (Vasconcelos et al., CVPR 2022) in miniature, on a CPU, with no downloads.

Stages: (1) generate the data, (2) pretrain a classifier with mmpretrain and export its
backbone, (3) train and evaluate every detector variant from ``configs/mini_study/`` (the
headline pair with several seeds), (4) measure the training cost of one step per variant with
the train-cost tool, (5) write the results table, twin differences, plots and a summary under
the study's work dir. Console entry point: ``mmfrozen-mini-study``; script:
``tools/mini_study.py``; ``make demo``.
"""
import argparse
import datetime
import json
import os
import os.path as osp
import platform
import shutil
import sys
import time
from typing import Dict, List, Optional, Sequence

from ..mim import CONFIG_ROOT, config_path
from .progress import Progress, fmt_seconds
from .variants import HEADLINE, VARIANTS, Variant, select

CONFIG_DIR = osp.join(CONFIG_ROOT, 'mini_study')
UPSTREAM_CONFIG = config_path('mini_study/upstream/resnet18-w32_1xb64-1k_shapes-cls.py')
#: Iterations of the quick mode (the test suite's run): upstream, detectors.
QUICK_ITERS = (30, 12)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Run the mini-study end to end: data, upstream pretraining, detector '
        'variants, training cost, results table and summary.')
    parser.add_argument('--work-dir', default='work_dirs/mini_study',
                        help='where data, runs and the report go (default: work_dirs/mini_study)')
    parser.add_argument('--quick', action='store_true',
                        help='the same pipeline, small (12 classes, 64-px images, a few '
                        'iterations): checks that everything works, measures nothing')
    parser.add_argument('--seeds', type=int, default=1,
                        help=f'training seeds 0..N-1 for the headline pair {list(HEADLINE)}; the '
                        'other variants run seed 0 (default: 1)')
    parser.add_argument('--data-seed', type=int, default=0, help='seed of the generated data')
    parser.add_argument('--variants', nargs='+', default=[], metavar='KEY',
                        help=f'run only these variants (default: all of '
                        f'{[v.key for v in VARIANTS]})')
    parser.add_argument('--iters', type=int, default=None,
                        help='detector iterations (default: the configs\' 200; quick: '
                        f'{QUICK_ITERS[1]})')
    parser.add_argument('--upstream-iters', type=int, default=None,
                        help='upstream classifier iterations (default: the config\'s; quick: '
                        f'{QUICK_ITERS[0]})')
    parser.add_argument('--reuse', action='store_true',
                        help='keep data, upstream checkpoint and finished runs of an earlier '
                        'invocation with the same settings (e.g. to add seeds)')
    parser.add_argument('--report-only', action='store_true',
                        help='with --reuse: train nothing, write the report from the finished '
                        'runs and the existing train_cost.json')
    parser.add_argument('--no-cost', dest='cost', action='store_false',
                        help='skip the training-cost measurement')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch CPU threads (default: 1, robust on a shared machine, where '
                        'two spinning threads per process can be many times slower; 2 is '
                        'faster on an idle 2-core machine)')
    parser.add_argument('--jobs', type=int, default=1,
                        help='detector runs trained at the same time, each in its own process '
                        'with --threads threads (default: 1)')
    parser.add_argument('--verbose', action='store_true',
                        help='show the Runners\' own logs on the console')
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f'--seeds must be >= 1, got {args.seeds}')
    for name in ('iters', 'upstream_iters', 'threads', 'jobs'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1, got {value}')
    if args.report_only and not args.reuse:
        parser.error('--report-only needs --reuse (it reports the runs of an earlier invocation)')
    try:
        select(args.variants)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def plan_runs(variants: List[Variant], seeds: int) -> List[tuple]:
    """(variant, seed) of every detector run: seed 0 for all, more seeds for the headline."""
    runs = [(v, 0) for v in variants]
    for seed in range(1, seeds):
        runs += [(v, seed) for v in variants if v.key in HEADLINE]
    return runs


def _settings(args: argparse.Namespace) -> dict:
    return dict(quick=args.quick, data_seed=args.data_seed, iters=args.iters,
                upstream_iters=args.upstream_iters)


def _load_json(path: str) -> Optional[dict]:
    if not osp.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def _detector_job(config: str, data, pretrained: str, run_dir: str, label: str,
                  max_iters: Optional[int], seed: int, verbose: bool, threads: int) -> dict:
    """One detector run in a worker process (``--jobs`` > 1); returns metrics and seconds."""
    import torch

    import mmfrozen  # noqa: F401
    from .downstream import train_detector
    torch.set_num_threads(threads)
    t0 = time.time()
    metrics = train_detector(config, data, pretrained, run_dir, Progress(num_stages=0), label,
                             max_iters=max_iters, seed=seed, verbose=verbose)
    return dict(metrics=metrics, seconds=time.time() - t0)


def _cost_job(cost_args: List[str]) -> None:
    """The train-cost tool on the variants' configs (each measurement in a fresh process)."""
    from mmfrozen.analysis.cost import train_cost
    train_cost.main(cost_args)


def run_study(args: argparse.Namespace) -> dict:
    """Run every stage; returns the summary (also written to ``<work_dir>/summary.json``)."""
    import torch

    import mmfrozen  # noqa: F401  (registers the metric, hooks, runner, models)
    from mmfrozen.analysis.results import ResultsTable
    from .downstream import train_detector
    from .report import headline_lines, markdown, plot_overview, summarize, write_json
    from .study_data import FULL, QUICK, make_study_data
    from .upstream import pretrain_backbone

    torch.set_num_threads(args.threads)
    os.environ['OMP_NUM_THREADS'] = str(args.threads)  # worker and cost processes
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    state_path = osp.join(work_dir, 'study_state.json')
    state = _load_json(state_path) if args.reuse else None
    if state is not None and state.get('settings') != _settings(args):
        raise SystemExit(f'--reuse: {state_path} was written with settings {state["settings"]}, '
                         f'not {_settings(args)}; drop --reuse or use another --work-dir')
    state = state or dict(settings=_settings(args), records=[])

    def save_state():
        write_json(state, state_path)

    preset = QUICK if args.quick else FULL
    up_iters = args.upstream_iters or (QUICK_ITERS[0] if args.quick else None)
    det_iters = args.iters or (QUICK_ITERS[1] if args.quick else None)
    variants = select(args.variants)
    runs = plan_runs(variants, args.seeds)
    progress = Progress(num_stages=5 if args.cost else 4)
    t_start = time.time()
    progress.print(f'mmfrozen mini-study{" (quick)" if args.quick else ""}: {len(runs)} detector '
                   f'runs, work dir {work_dir}, torch threads {torch.get_num_threads()}')

    # 1. data
    progress.stage('data', f'{preset.num_classes} classes, seed {args.data_seed}')
    data_root = osp.join(work_dir, 'data')
    t0 = time.time()
    if args.reuse and state.get('data_done'):
        from .study_data import data_sets
        cls_data, det_data = data_sets(data_root, preset)
        progress.print('   reusing the generated data')
    else:
        shutil.rmtree(data_root, ignore_errors=True)
        cls_data, det_data = make_study_data(data_root, preset, seed=args.data_seed)
        state['data_done'] = True
        save_state()
    counts = {b: sum(1 for f in det_data.frequency.values() if f == b) for b in 'rcf'}
    progress.print(f'   classification: {len(cls_data.classes)} classes x '
                   f'{preset.cls_train_per_class} train images; detection: '
                   f'{counts["r"]} rare / {counts["c"]} common / {counts["f"]} frequent classes '
                   f'({time.time() - t0:.0f} s)')

    # 2. upstream
    up_dir = osp.join(work_dir, 'upstream')
    pretrained = osp.join(up_dir, 'backbone.pth')
    progress.stage('upstream', 'classification pretraining with mmpretrain')
    if args.reuse and state.get('upstream') and osp.exists(pretrained):
        up_metrics = state['upstream']
        progress.print('   reusing the exported backbone')
    else:
        shutil.rmtree(up_dir, ignore_errors=True)
        pretrained, up_metrics = pretrain_backbone(UPSTREAM_CONFIG, cls_data, up_dir, progress,
                                                   max_iters=up_iters, seed=0,
                                                   verbose=args.verbose)
        state['upstream'] = up_metrics
        save_state()
    progress.print(f'   upstream top-1 accuracy {up_metrics.get("accuracy/top1", float("nan")):.1f}'
                   f'% (top-5 {up_metrics.get("accuracy/top5", float("nan")):.1f}%) -> '
                   f'{osp.relpath(pretrained)}')

    # 3. detectors
    runs_dir = osp.join(work_dir, 'runs')
    progress.stage('detectors', f'{len(runs)} runs: ' + ', '.join(
        f'{v.key}/s{s}' for v, s in runs))
    done = {(r['variant'], r['seed']) for r in state['records']}
    todo = [(v, s) for v, s in runs if (v.key, s) not in done]
    first_cfg_iters = det_iters or 200
    progress.iters_left = first_cfg_iters * len(todo)
    progress.sec_per_iter = None
    def finished(variant, seed, run_dir, seconds, metrics, label):
        state['records'].append(dict(variant=variant.key, config=variant.stem, seed=seed,
                                     work_dir=run_dir, seconds=round(seconds, 1),
                                     metrics=metrics))
        save_state()
        m = {k: 100 * metrics.get(f'coco/bbox_{k}', float('nan')) for k in
             ('mAP', 'mAP_50', 'APr', 'APc', 'APf')}
        progress.print(f'   {label}: AP {m["mAP"]:.1f}  AP50 {m["mAP_50"]:.1f}  APr '
                       f'{m["APr"]:.1f}  APc {m["APc"]:.1f}  APf {m["APf"]:.1f}  '
                       f'({fmt_seconds(seconds)})')

    cost_path = osp.join(work_dir, 'train_cost.json')
    # the twins of the cost claim (quick: only the small-FPN pair); each measurement starts a
    # fresh process
    cost_keys = ('ft', 'frozen') if args.quick else ('ft', 'frozen', *HEADLINE)
    cost_variants = [v for v in variants if v.key in cost_keys]
    cost_args = [osp.join(CONFIG_DIR, v.config) for v in cost_variants]
    cost_args += ['--no-limit', '--out', cost_path, '--image-size', str(preset.det_image_size),
                  str(preset.det_image_size)]
    cost_args += ['--iters', '1', '--warmup', '1', '--no-flops'] if args.quick else \
        ['--iters', '3', '--warmup', '1']
    cost_future = None
    if args.reuse and args.cost and not args.report_only:
        measured = {e.get('config') for e in (_load_json(cost_path) or {}).get('results', [])}
        if measured >= {v.stem for v in cost_variants}:
            progress.print(f'   reusing the measured cost in {osp.relpath(cost_path)}')
            args.report_only_cost = True
    jobs = []
    for i, (variant, seed) in enumerate(runs, 1):
        label = f'[{i}/{len(runs)}] {variant.key} seed {seed}'
        if (variant.key, seed) in done:
            progress.print(f'   {label}: reusing the finished run')
            continue
        if args.report_only:
            progress.print(f'   {label}: not run (--report-only), left out of the report')
            continue
        run_dir = osp.join(runs_dir, variant.stem, f'seed{seed}')
        shutil.rmtree(run_dir, ignore_errors=True)
        jobs.append((variant, seed, run_dir, label))
    if args.report_only:
        pass
    elif args.jobs == 1:
        for variant, seed, run_dir, label in jobs:
            progress.iters_left -= first_cfg_iters
            progress.print(f'   {label}: {variant.description} ({variant.config})')
            t0 = time.time()
            metrics = train_detector(osp.join(CONFIG_DIR, variant.config), det_data, pretrained,
                                     run_dir, progress, label, max_iters=det_iters, seed=seed,
                                     verbose=args.verbose)
            finished(variant, seed, run_dir, time.time() - t0, metrics, label)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed
        os.environ['OMP_NUM_THREADS'] = str(args.threads)
        progress.print(f'   {len(jobs)} runs in {args.jobs} worker processes')
        pool = ProcessPoolExecutor(args.jobs + int(args.cost),
                                   mp_context=multiprocessing.get_context('spawn'))
        with pool as ex:
            if args.cost and not getattr(args, 'report_only_cost', False):
                cost_future = ex.submit(_cost_job, cost_args)
                cost_future.add_done_callback(  # say so at once, not after all the training
                    lambda f: f.exception() and progress.print(
                        f'   the training-cost measurement failed: {f.exception()!r}'))
            futures = {}
            for variant, seed, run_dir, label in jobs:
                fut = ex.submit(_detector_job, osp.join(CONFIG_DIR, variant.config), det_data,
                                pretrained, run_dir, label, det_iters, seed, args.verbose,
                                args.threads)
                futures[fut] = (variant, seed, run_dir, label)
            for fut in as_completed(futures):
                variant, seed, run_dir, label = futures[fut]
                out = fut.result()
                finished(variant, seed, run_dir, out['seconds'], out['metrics'], label)
            if cost_future is not None:
                cost_future.result()

    # 4. training cost
    cost = None
    if args.cost:
        progress.stage('training cost', 'one step per variant, each in a fresh process')
        t0 = time.time()
        if args.report_only or getattr(args, 'report_only_cost', False):
            progress.print('   reusing the measured cost')
        elif cost_future is None:
            _cost_job(cost_args)
        else:
            progress.print('   (measured while the detectors trained: --jobs > 1)')
            cost_future.result()
        cost = _load_json(cost_path)
        if args.report_only and not cost:
            progress.print(f'   no {osp.relpath(cost_path)}: the report goes without the '
                           'measured cost')
        elif not cost or not cost.get('results'):
            raise RuntimeError(f'mmfrozen mini-study: the train-cost tool wrote no results to '
                               f'{cost_path}')
        else:
            progress.print(f'   {len(cost["results"])} measurements -> '
                           f'{osp.relpath(cost_path)} ({fmt_seconds(time.time() - t0)})')

    # 5. report
    progress.stage('report', 'results table, twin differences, plots, summary')
    report_dir = osp.join(work_dir, 'report')
    shutil.rmtree(report_dir, ignore_errors=True)
    finished_dirs = [r['work_dir'] for r in state['records']]
    if not finished_dirs:
        raise RuntimeError('mmfrozen mini-study: no finished detector run to report')
    table = ResultsTable.from_work_dirs(finished_dirs, [cost_path] if cost else [])
    date = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    machine = (f'{platform.machine()}, {os.cpu_count()} CPU cores, no GPU'
               if not torch.cuda.is_available() else f'{platform.machine()}, CUDA')
    seeds_of: Dict[str, List[int]] = {}
    for r in state['records']:
        seeds_of.setdefault(r['variant'], []).append(r['seed'])
    seeds_note = 'training seeds ' + ', '.join(
        f'{k} {sorted(v)}' for k, v in seeds_of.items())
    notes = [f'mmfrozen mini-study{" (quick)" if args.quick else ""}, {date}, {machine}; '
             f'data seed {args.data_seed}; {seeds_note}.']
    out = table.write(report_dir, config_root=CONFIG_ROOT,
                      title='mmfrozen mini-study', notes=notes)
    summary = summarize(state['records'], cost)
    summary.update(date=date, machine=machine, quick=args.quick, data_seed=args.data_seed,
                   seeds=args.seeds, upstream=up_metrics,
                   wall_seconds=round(time.time() - t_start, 1),
                   frequency_counts=counts, report=out)
    overview = plot_overview(summary, osp.join(work_dir, 'mini_study_overview.png'))
    summary['overview_plot'] = overview
    header = [f'# mmfrozen mini-study{" (quick)" if args.quick else ""}', '',
              f'{date}; {machine}; data seed {args.data_seed}; {seeds_note}; upstream top-1 '
              f'{up_metrics.get("accuracy/top1", float("nan")):.1f}%; wall time of this '
              f'invocation {fmt_seconds(summary["wall_seconds"])}. AP in percent on the '
              'validation split; buckets by training-image count as in LVIS.', '']
    with open(osp.join(work_dir, 'summary.md'), 'w') as f:
        f.write(markdown(summary, header))
    write_json(summary, osp.join(work_dir, 'summary.json'))
    progress.print(f'   results table: {osp.relpath(out["markdown"])} ({len(table.rows)} runs, '
                   f'{len(out.get("plots", []))} plots); summary: '
                   f'{osp.relpath(osp.join(work_dir, "summary.md"))}')
    progress.print('== headline comparisons (AP in percent; ± = sample std over seeds)')
    for line in headline_lines(summary):
        progress.print('   ' + line)
    progress.print(f'done in {fmt_seconds(time.time() - t_start)}')
    return summary


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Console entry point."""
    run_study(parse_args(argv))
    return 0


if __name__ == '__main__':
    sys.exit(main())
