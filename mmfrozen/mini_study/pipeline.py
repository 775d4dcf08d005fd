"""The mini-study: the experiment of "Proper Reuse of Image Classification Features Improves
Object Detection" (Vasconcelos et al., CVPR 2022) in miniature, on a CPU, with no downloads.

Stages: (1) generate the data, (2) pretrain a classifier with mmpretrain and export its
backbone (both cached by what decides them), (3) train and evaluate every detector variant from
``configs/mini_study/`` (frozen and fine-tuned twins at three decoder capacities; the smallest
and the largest with several training seeds), (4) write the results table (the package's
results-table tool), the summary with the paper's three claims judged by the rule of
``docs/mini_study.md``, and the plots. Console entry point: ``mmfrozen-mini-study``; script:
``tools/mini_study.py``; ``make demo``.
"""
import argparse
import datetime
import os
import os.path as osp
import shutil
import sys
import time
from typing import Dict, List, Optional, Sequence

from ..mim import CONFIG_ROOT, config_path
from .design import FULL, QUICK, StudyDesign
from .progress import Progress, fmt_seconds
from .variants import VARIANTS, Variant, plan_runs, select

UPSTREAM_CONFIG = 'mini_study/upstream/resnet18-w16_1xb64-1000it_shapes-cls.py'
STAGES = ('data', 'upstream', 'detectors', 'report')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Run the mini-study end to end: data, upstream pretraining, detector '
        'variants, results table, summary with the paper\'s three claims, plots.')
    parser.add_argument('--work-dir', default='work_dirs/mini_study',
                        help='where the cache, runs and report go (default: work_dirs/mini_study)')
    parser.add_argument('--quick', action='store_true',
                        help='the same pipeline, tiny (8 classes, small images, a few '
                        'iterations, 2 seeds): checks that everything works, measures nothing')
    parser.add_argument('--seeds', type=int, default=None,
                        help='training seeds 0..N-1 for the twins of the smallest and the largest '
                        'decoder (default: 3; quick: 2); the middle decoder runs seed 0')
    parser.add_argument('--data-seed', type=int, default=0,
                        help='seed of the generated world: other images, other rare classes '
                        '(default: 0)')
    parser.add_argument('--variants', nargs='+', default=[], metavar='KEY',
                        help='run these variants (default: the fine-tuned and frozen twins; '
                        f'also: {[v.key for v in VARIANTS if v.mode not in ("ft", "frozen")]})')
    parser.add_argument('--fresh', action='store_true',
                        help='rebuild the cached data and upstream backbone')
    parser.add_argument('--jobs', type=int, default=2,
                        help='detector runs trained at the same time, each in its own process '
                        'with --threads threads (default: 2)')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads per detector run (default: 1; more threads than cores '
                        'in all makes every run many times slower)')
    parser.add_argument('--verbose', action='store_true',
                        help='show the Runners\' own logs on the console')
    args = parser.parse_args(argv)
    for name in ('seeds', 'threads', 'jobs'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f'--{name} must be >= 1, got {value}')
    if args.data_seed < 0:
        parser.error(f'--data-seed must be >= 0 (a numpy seed), got {args.data_seed}')
    try:
        select(args.variants)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def design_of(args: argparse.Namespace) -> StudyDesign:
    """The design the arguments ask for."""
    design = QUICK if args.quick else FULL
    return design.with_(seeds=args.seeds) if args.seeds else design


def train_runs(runs: List[tuple], det_data, pretrained: str, runs_dir: str,
               design: StudyDesign, args: argparse.Namespace, progress: Progress) -> List[dict]:
    """Train every (variant, seed) run, ``args.jobs`` at a time; returns their records."""
    from .detectors import detector_job
    jobs = []
    for i, (variant, seed) in enumerate(runs, 1):
        label = f'[{i}/{len(runs)}] {variant.key} seed {seed}'
        run_dir = osp.join(runs_dir, variant.stem, f'seed{seed}')
        shutil.rmtree(run_dir, ignore_errors=True)
        jobs.append((variant, seed, run_dir, label))
    records = []

    def finished(variant: Variant, seed: int, run_dir: str, out: dict, label: str) -> None:
        records.append(dict(variant=variant.key, config=variant.stem, seed=seed,
                            work_dir=run_dir, seconds=round(out['seconds'], 1)))
        m = {k: 100 * out['metrics'].get(f'coco/bbox_{k}', float('nan'))
             for k in ('mAP', 'APr', 'APc', 'APf')}
        left = len(jobs) - len(records)  # runs go costliest first: an upper bound
        eta = sum(r['seconds'] for r in records) / len(records) * left / args.jobs
        progress.print(f'   {label} done: AP {m["mAP"]:.1f}  APr {m["APr"]:.1f}  APc '
                       f'{m["APc"]:.1f}  APf {m["APf"]:.1f}  ({fmt_seconds(out["seconds"])})'
                       + (f'  study eta {fmt_seconds(eta)}' if left else ''))

    def job_args(variant: Variant, seed: int, run_dir: str, label: str) -> tuple:
        return (config_path(f'mini_study/{variant.config}'), det_data,
                pretrained if variant.mode != 'scratch' else None, run_dir, label,
                design.detector_iters, design.detector_val_interval, seed, design.score_thr,
                args.verbose, args.threads, progress.start)

    if args.jobs == 1:
        for variant, seed, run_dir, label in jobs:
            progress.print(f'   {label}: {variant.description}')
            finished(variant, seed, run_dir, detector_job(*job_args(variant, seed, run_dir,
                                                                       label)), label)
        return records
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    progress.print(f'   {len(jobs)} runs, {args.jobs} at a time, {args.threads} thread(s) each')
    with ProcessPoolExecutor(args.jobs,
                             mp_context=multiprocessing.get_context('spawn')) as pool:
        futures = {pool.submit(detector_job, *job_args(*job)): job for job in jobs}
        for fut in as_completed(futures):
            variant, seed, run_dir, label = futures[fut]
            finished(variant, seed, run_dir, fut.result(), label)
    return records


def run_study(args: argparse.Namespace) -> dict:
    """Run every stage; returns the summary (also written to ``<work_dir>/summary.json``)."""
    import torch

    import mmfrozen  # noqa: F401  (registers the metric, hooks, runner and models)
    from ..analysis.cost.machine import machine_description
    from ..analysis.results import ResultsTable
    from .data import study_data
    from .report import (headline_lines, markdown, plot_ap_vs_time, plot_capacity,
                         run_results, summarize, write_json)
    from .upstream import cached_backbone

    # this process trains the upstream classifier on every core the workers will use; each
    # worker process trains one detector with --threads threads
    torch.set_num_threads(args.jobs * args.threads)
    os.environ['OMP_NUM_THREADS'] = str(args.threads)
    design = design_of(args)
    work_dir = osp.abspath(args.work_dir)
    cache_root = osp.join(work_dir, 'cache')
    os.makedirs(cache_root, exist_ok=True)
    variants = select(args.variants)
    runs = plan_runs(variants, design.seeds)
    progress = Progress(num_stages=len(STAGES))
    t_start = time.time()
    stage_seconds: Dict[str, float] = {}
    progress.print(f'mmfrozen mini-study{" (quick)" if args.quick else ""}: '
                   f'{design.world.num_classes} classes, {len(runs)} detector runs, work dir '
                   f'{work_dir}')

    # 1. data
    t0 = time.time()
    progress.stage('data', f'seed {args.data_seed}')
    cls_data, det_data, data_root, reused = study_data(cache_root, design, args.data_seed,
                                                       fresh=args.fresh, workers=args.jobs)
    counts = {b: sum(1 for f in det_data.frequency.values() if f == b) for b in 'rcf'}
    progress.print(f'   {"reused the cached data in" if reused else "generated"} '
                   f'{osp.relpath(data_root)}: {len(cls_data.classes)} classes; detection '
                   f'buckets {counts["r"]} rare / {counts["c"]} common / {counts["f"]} frequent')
    stage_seconds['data'] = time.time() - t0

    # 2. upstream
    t0 = time.time()
    progress.stage('upstream', 'classification pretraining with mmpretrain')
    from .data import data_key
    pretrained, up_metrics, up_root, reused = cached_backbone(
        cache_root, data_key(design, args.data_seed), config_path(UPSTREAM_CONFIG), cls_data,
        progress, max_iters=design.upstream_iters, seed=0, fresh=args.fresh,
        verbose=args.verbose)
    progress.print(f'   {"reused the cached" if reused else "trained the"} upstream classifier: '
                   f'top-1 {up_metrics.get("accuracy/top1", float("nan")):.1f}% (top-5 '
                   f'{up_metrics.get("accuracy/top5", float("nan")):.1f}%) on its balanced '
                   f'validation split -> {osp.relpath(pretrained)}')
    stage_seconds['upstream'] = time.time() - t0

    # 3. detectors
    t0 = time.time()
    runs_dir = osp.join(work_dir, 'runs')
    progress.stage('detectors', f'{len(runs)} runs of {len(variants)} variants')
    records = train_runs(runs, det_data, pretrained, runs_dir, design, args, progress)
    stage_seconds['detectors'] = time.time() - t0

    # 4. report
    t0 = time.time()
    progress.stage('report', 'results table, summary, claims, plots')
    report_dir = osp.join(work_dir, 'report')
    shutil.rmtree(report_dir, ignore_errors=True)
    table = ResultsTable.from_work_dirs([r['work_dir'] for r in records])
    date = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    machine = machine_description()
    notes = [f'mmfrozen mini-study{" (quick)" if args.quick else ""}, {date}, {machine}; data '
             f'seed {args.data_seed}; training seeds 0-{design.seeds - 1} for the twins of the '
             'smallest and largest decoder, 0 for the others.']
    table_files = table.write(report_dir, config_root=CONFIG_ROOT, title='mmfrozen mini-study',
                              notes=notes)
    results, warnings = run_results(table.rows, records, {v.key: v for v in VARIANTS})
    for w in warnings:
        progress.print(f'   warning: {w}')
    if table.warnings:  # e.g. that a config has several runs (its seeds): in the report's notes
        progress.print(f'   the results table noted {len(table.warnings)} thing(s) about the logs;'
                       f' see {osp.relpath(table_files["markdown"])}')
    summary = summarize(results)
    plots = dict(capacity=plot_capacity(summary, osp.join(work_dir, 'mini_study_capacity.png')),
                 ap_vs_time=plot_ap_vs_time(results,
                                            osp.join(work_dir, 'mini_study_ap_vs_time.png')))
    stage_seconds['report'] = time.time() - t0
    summary.update(
        date=date, machine=machine, quick=args.quick, data_seed=args.data_seed,
        seeds=design.seeds, design=design.data_dict(),
        upstream_top1=up_metrics.get('accuracy/top1'), upstream_top5=up_metrics.get(
            'accuracy/top5'), upstream_cache=up_root, data_cache=data_root,
        frequency_counts=counts, stage_seconds={k: round(v, 1) for k, v in
                                                stage_seconds.items()},
        wall_seconds=round(time.time() - t_start, 1), runs=records, report=table_files,
        plots=plots, warnings=warnings + table.warnings)
    header = [f'# mmfrozen mini-study{" (quick)" if args.quick else ""}', '',
              f'{date}; {machine}; data seed {args.data_seed}; upstream top-1 '
              f'{summary["upstream_top1"]:.1f}% on {len(cls_data.classes)} classes; wall time '
              f'{fmt_seconds(summary["wall_seconds"])} (' + ', '.join(
                  f'{k} {fmt_seconds(v)}' for k, v in stage_seconds.items()) + '). AP in percent '
              'on the validation split; buckets by training-image count as in LVIS.', '']
    with open(osp.join(work_dir, 'summary.md'), 'w') as f:
        f.write(markdown(summary, header))
    write_json(summary, osp.join(work_dir, 'summary.json'))
    progress.print(f'   {osp.relpath(table_files["markdown"])} ({len(table.rows)} runs); '
                   f'{osp.relpath(osp.join(work_dir, "summary.md"))}; plots '
                   + ', '.join(osp.relpath(p) for p in plots.values() if p))
    progress.print('== the paper\'s claims (95% paired intervals over seeds)')
    for line in headline_lines(summary):
        progress.print('   ' + line)
    progress.print(f'done in {fmt_seconds(time.time() - t_start)} (' + ', '.join(
        f'{k} {fmt_seconds(v)}' for k, v in stage_seconds.items()) + ')')
    return summary


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Console entry point."""
    run_study(parse_args(argv))
    return 0


if __name__ == '__main__':
    sys.exit(main())
