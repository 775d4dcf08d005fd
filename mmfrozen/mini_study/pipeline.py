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
from dataclasses import asdict
from typing import Dict, List, Optional, Sequence, Tuple

from ..mim import CONFIG_ROOT, config_path
from .design import PROFILES, StudyDesign
from .progress import Progress, fmt_seconds
from .runner_utils import DEVICES
from .variants import VARIANTS, Variant, plan_runs, select

UPSTREAM_CONFIG = 'mini_study/upstream/resnet18-w16_1xb64-1000it_shapes-cls.py'
STAGES = ('data', 'upstream', 'detectors', 'cost', 'report')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Run the mini-study end to end: data, upstream pretraining, detector '
        'variants, results table, summary with the paper\'s three claims, plots.')
    parser.add_argument('--work-dir', default=None,
                        help='where the cache, runs and report go (default: work_dirs/mini_study '
                        'for the default profile, work_dirs/mini_study_<profile> for the others, '
                        'so that one profile never replaces another\'s runs)')
    parser.add_argument('--profile', choices=sorted(PROFILES), default=None,
                        help='default: about 15 minutes on 2 cores; long: the paper\'s regime '
                        '(converged detectors, the fine-tuned backbone at the decoder\'s '
                        'learning rate, an upstream far richer than the downstream, two worlds, '
                        'about 80 minutes on 2 cores); quick: see --quick')
    parser.add_argument('--quick', action='store_true',
                        help='the same pipeline, tiny (8 classes, small images, a few '
                        'iterations, 2 seeds): checks that everything works, measures nothing '
                        '(= --profile quick)')
    parser.add_argument('--seeds', type=int, default=None,
                        help='training seeds 0..N-1 for the twins of the smallest and the largest '
                        'decoder (default: the profile\'s, 3; quick: 2); the middle decoder runs '
                        'seed 0')
    parser.add_argument('--data-seed', type=int, default=0,
                        help='seed of the generated world: other images, other rare classes '
                        '(default: 0); a profile of several worlds uses this seed and the next')
    parser.add_argument('--device', choices=DEVICES, default='cpu',
                        help='where the upstream classifier and the detectors train (default: '
                        'cpu); cuda needs a CUDA build of torch and a GPU')
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
    if args.quick and args.profile not in (None, 'quick'):
        parser.error(f'--quick is --profile quick; it contradicts --profile {args.profile}')
    args.profile = 'quick' if args.quick else (args.profile or 'default')
    args.quick = args.profile == 'quick'
    if args.work_dir is None:
        args.work_dir = osp.join('work_dirs', 'mini_study' if args.profile == 'default'
                                 else f'mini_study_{args.profile}')
    if args.data_seed < 0:
        parser.error(f'--data-seed must be >= 0 (a numpy seed), got {args.data_seed}')
    try:
        select(args.variants)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def design_of(args: argparse.Namespace) -> StudyDesign:
    """The design the arguments ask for."""
    design = PROFILES[args.profile]
    return design.with_(seeds=args.seeds) if args.seeds else design


def train_runs(runs: List[tuple], worlds: Dict[int, tuple], runs_dir: str,
               design: StudyDesign, args: argparse.Namespace, progress: Progress) -> List[dict]:
    """Train every (data seed, variant, seed) run, ``args.jobs`` at a time; returns their
    records. ``worlds`` maps a data seed to its (detection data, upstream export)."""
    from .detectors import detector_job
    jobs = []
    for i, (data_seed, variant, seed) in enumerate(runs, 1):
        where = f'world {data_seed} ' if design.worlds > 1 else ''
        label = f'[{i}/{len(runs)}] {where}{variant.key} seed {seed}'
        run_dir = osp.join(runs_dir, f'world{data_seed}', variant.stem, f'seed{seed}')
        shutil.rmtree(run_dir, ignore_errors=True)
        jobs.append((data_seed, variant, seed, run_dir, label))
    records = []

    def finished(data_seed: int, variant: Variant, seed: int, run_dir: str, out: dict,
                 label: str) -> None:
        records.append(dict(variant=variant.key, config=variant.stem, data_seed=data_seed,
                            seed=seed, work_dir=run_dir, seconds=round(out['seconds'], 1),
                            trained=out.get('trained')))
        m = {k: 100 * out['metrics'].get(f'coco/bbox_{k}', float('nan'))
             for k in ('mAP', 'APr', 'APc', 'APf')}
        left = len(jobs) - len(records)  # runs go costliest first: an upper bound
        eta = sum(r['seconds'] for r in records) / len(records) * left / args.jobs
        progress.print(f'   {label} done: AP {m["mAP"]:.1f}  APr {m["APr"]:.1f}  APc '
                       f'{m["APc"]:.1f}  APf {m["APf"]:.1f}  ({fmt_seconds(out["seconds"])})'
                       + (f'  study eta {fmt_seconds(eta)}' if left else ''))

    def job_args(data_seed: int, variant: Variant, seed: int, run_dir: str, label: str) -> tuple:
        det_data, pretrained = worlds[data_seed]
        return (config_path(f'mini_study/{variant.config}'), det_data,
                pretrained if variant.mode != 'scratch' else None, run_dir, label,
                design.run_schedule, seed, args.verbose, args.threads, progress.start,
                args.device)

    if args.jobs == 1:
        for job in jobs:
            progress.print(f'   {job[-1]}: {job[1].description}')
            finished(*job[:4], detector_job(*job_args(*job)), job[-1])
        return records
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    progress.print(f'   {len(jobs)} runs, {args.jobs} at a time, {args.threads} thread(s) each')
    with ProcessPoolExecutor(args.jobs,
                             mp_context=multiprocessing.get_context('spawn')) as pool:
        futures = {pool.submit(detector_job, *job_args(*job)): job for job in jobs}
        for fut in as_completed(futures):
            job = futures[fut]
            finished(*job[:4], fut.result(), job[-1])
    return records


def run_study(args: argparse.Namespace) -> dict:
    """Run every stage; returns the summary (also written to ``<work_dir>/summary.json``)."""
    import torch

    import mmfrozen  # noqa: F401  (registers the metric, hooks, runner and models)
    from ..analysis.cost.machine import machine_description
    from ..analysis.results import ResultsTable
    from .cost import cost_claim
    from .data import data_key, study_data
    from .plots import plot_ap_vs_time, plot_capacity
    from .report import headline_lines, markdown, trained_words, write_json
    from .results import class_counts, run_results, summarize
    from .runner_utils import use_device
    from .upstream import cached_backbone

    design = design_of(args)
    work_dir = osp.abspath(args.work_dir)
    data_seeds = list(range(args.data_seed, args.data_seed + design.worlds))
    refusal, replaced = other_study(work_dir, design.profile, data_seeds)
    if refusal is not None:  # before anything is changed, in the work dir or in this process
        raise FileExistsError(refusal)
    use_device(args.device)
    # this process trains the upstream classifier on every core the workers will use; each
    # worker process trains one detector with --threads threads
    torch.set_num_threads(args.jobs * args.threads)
    os.environ['OMP_NUM_THREADS'] = str(args.threads)
    cache_root = osp.join(work_dir, 'cache')
    os.makedirs(cache_root, exist_ok=True)
    variants = select(args.variants or design.variants)
    # the costliest runs first over every world, so the last runs to finish are short ones
    runs = [(d, v, s) for v, s in plan_runs(variants, design.seeds) for d in data_seeds]
    progress = Progress(num_stages=len(STAGES) + 2 * (design.worlds - 1))
    t_start = time.time()
    stage_seconds: Dict[str, float] = {}
    label = f'mmfrozen mini-study, profile {design.profile}'
    progress.print(f'{label}: {design.world.num_classes} classes, {design.worlds} world(s) '
                   f'(data seed {", ".join(map(str, data_seeds))}), {len(runs)} detector runs, '
                   f'{args.device}, work dir {work_dir}')
    if design.profile in EXPECTED_MINUTES:
        progress.print(f'   expect about {EXPECTED_MINUTES[design.profile]} minutes on a 2-core '
                       'CPU with the default --jobs 2 (less with the cache, on a GPU or more '
                       'cores)')
    if replaced is not None:
        progress.print(f'   note: {replaced}')
    if design.replicates < design.min_replicates:
        progress.print(f'   note: {design.seeds} seed(s) x {design.worlds} world(s) = '
                       f'{design.replicates} replicate(s); the verdict rule needs at least '
                       f'{design.min_replicates}: claims 2 and 3 will not be judged')

    # 1-2. data and upstream, world by world
    stage_seconds['data'] = stage_seconds['upstream'] = 0.0
    worlds, world_info = {}, {}
    for i, data_seed in enumerate(data_seeds):
        t0 = time.time()
        progress.stage('data', f'seed {data_seed}' + (f' (world {i + 1} of {len(data_seeds)})'
                                                    if len(data_seeds) > 1 else ''))
        cls_data, det_data, data_root, reused = study_data(
            cache_root, design, data_seed, fresh=args.fresh, workers=args.jobs)
        counts = {b: sum(1 for f in det_data.frequency.values() if f == b) for b in 'rcf'}
        progress.print(f'   {"reused the cached data in" if reused else "generated"} '
                       f'{osp.relpath(data_root)}: {len(cls_data.classes)} classes; detection '
                       f'buckets {counts["r"]} rare / {counts["c"]} common / {counts["f"]} '
                       'frequent')
        stage_seconds['data'] += time.time() - t0
        t0 = time.time()
        progress.stage('upstream', 'classification pretraining with mmpretrain')
        pretrained, up_metrics, up_root, reused = cached_backbone(
            cache_root, data_key(design, data_seed), config_path(UPSTREAM_CONFIG), cls_data,
            progress, max_iters=design.upstream_iters, seed=0, fresh=args.fresh,
            verbose=args.verbose)
        progress.print(f'   {"reused the cached" if reused else "trained the"} upstream '
                       f'classifier: top-1 {up_metrics.get("accuracy/top1", float("nan")):.1f}% '
                       f'(top-5 {up_metrics.get("accuracy/top5", float("nan")):.1f}%) on its '
                       f'balanced validation split -> {osp.relpath(pretrained)}')
        stage_seconds['upstream'] += time.time() - t0
        worlds[data_seed] = (det_data, pretrained)
        world_info[data_seed] = dict(
            data_seed=data_seed, upstream_top1=up_metrics.get('accuracy/top1'),
            upstream_top5=up_metrics.get('accuracy/top5'), upstream_cache=up_root,
            data_cache=data_root, frequency_counts=counts,
            premise=premise(cls_data, det_data), class_counts=class_counts(det_data))

    # 3. detectors
    t0 = time.time()
    runs_dir = osp.join(work_dir, 'runs')
    progress.stage('detectors', f'{len(runs)} runs of {len(variants)} variants')
    records = train_runs(runs, worlds, runs_dir, design, args, progress)
    stage_seconds['detectors'] = time.time() - t0

    # 4. claim 1 timed round-robin in one process (the machine's load hits both twins alike)
    t0 = time.time()
    progress.stage('cost', 'the largest decoder\'s twins timed round-robin in one process')
    cost_error = None
    try:
        cost = cost_claim_of(cost_claim, variants, worlds[data_seeds[0]], design, args)
    except Exception as exc:  # the trained runs must still be reported: said, and not judged
        cost, cost_error = None, f'{type(exc).__name__}: {exc}'
        progress.print(f'   ERROR: the round-robin timing failed ({cost_error}); claim 1 is not '
                       'judged, the summary says why')
    if cost is None and cost_error is None:
        progress.print('   no fine-tuned and frozen twins of the largest decoder among the '
                       'variants: claim 1 is not measured')
    elif cost is not None:
        progress.print(f'   {design.cost_rounds} rounds of {design.cost_iters} steps per twin: '
                       f'frozen/fine-tuned step time {cost["ratio_mean"]:.3f}')
    stage_seconds['cost'] = time.time() - t0

    # 5. report
    t0 = time.time()
    progress.stage('report', 'results tables, summary, claims, plots')
    report_dir = osp.join(work_dir, 'report')
    shutil.rmtree(report_dir, ignore_errors=True)
    date = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    machine = machine_description()
    rows, table_files, table_warnings = [], {}, []
    trained, trained_warnings = trained_by_variant(records)
    # the study changed the configs' schedule: the config names and the files under configs/
    # do not say how the runs trained
    changed = {k: v for k, v in asdict(design.run_schedule).items() if v is not None}
    for data_seed in data_seeds:
        mine = [r['work_dir'] for r in records if r['data_seed'] == data_seed]
        if not mine:
            continue
        table = ResultsTable.from_work_dirs(mine)
        notes = [f'{label}, {date}, {machine}; data seed {data_seed}; training seeds '
                 f'0-{design.seeds - 1} for the twins of the smallest and largest decoder, 0 for '
                 'the others; frozen-minus-fine-tuned differences paired by seed.',
                 f'The runs trained {trained_words(trained)} (read from the configs they '
                 'trained with).']
        if changed:
            edits = ', '.join(f'{k}={v}' for k, v in changed.items())
            notes.append(
                f'The study changed the configs\' schedule ({edits}): the Schedule column '
                'shows the length and batch the runs trained beside the config name\'s; the '
                'files under configs/ do not say how these runs trained (the Config column is '
                'not linked to them); metafile.yml and results.csv (config_path) give each '
                'run\'s dumped config.')
        table_files[f'world{data_seed}'] = table.write(
            osp.join(report_dir, f'world{data_seed}'),
            config_root=None if changed else CONFIG_ROOT,
            title=f'mmfrozen mini-study, world {data_seed}', notes=notes)
        rows += table.rows
        table_warnings += table.warnings
    results, warnings = run_results(rows, records, {v.key: v for v in VARIANTS},
                                    design.converge_tol)
    warnings = ([replaced] if replaced else []) + trained_warnings + warnings
    for w in warnings:
        progress.print(f'   warning: {w}')
    if table_warnings:  # e.g. that a config has several runs (its seeds): in the report's notes
        progress.print(f'   the results tables noted {len(table_warnings)} thing(s) about the '
                       f'logs; see {osp.relpath(report_dir)}')
    summary = summarize(results, {d: w['class_counts'] for d, w in world_info.items()},
                        cost, design.min_replicates, design.converge_tol)
    if cost_error is not None:
        warnings.append(f'claim 1: the round-robin timing failed ({cost_error}); not judged')
        summary['claims'][0]['missing'] = [f'the round-robin timing failed: {cost_error}']
    plots = dict(capacity=plot_capacity(summary, osp.join(work_dir, 'mini_study_capacity.png')),
                 ap_vs_time=plot_ap_vs_time(results,
                                            osp.join(work_dir, 'mini_study_ap_vs_time.png')))
    stage_seconds['report'] = time.time() - t0
    first = world_info[data_seeds[0]]
    summary.update(
        profile=design.profile, date=date, machine=machine, device=args.device,
        quick=args.quick, data_seed=args.data_seed, data_seeds=data_seeds, seeds=design.seeds,
        replicates=design.replicates, design=design.data_dict(), schedule=dict(
            detector_iters=design.detector_iters, detector_val_interval=design.detector_val_interval,
            detector_batch_size=design.detector_batch_size, score_thr=design.score_thr,
            upstream_iters=design.upstream_iters, backbone_lr_mult=design.backbone_lr_mult,
            converge_tol=design.converge_tol, cost_rounds=design.cost_rounds,
            cost_iters=design.cost_iters, trained=trained),
        worlds={str(d): {k: v for k, v in w.items() if k != 'class_counts'}
                for d, w in world_info.items()},
        upstream_top1=first['upstream_top1'], upstream_top5=first['upstream_top5'],
        upstream_cache=first['upstream_cache'], data_cache=first['data_cache'],
        frequency_counts=first['frequency_counts'], premise=first['premise'],
        stage_seconds={k: round(v, 1) for k, v in stage_seconds.items()},
        wall_seconds=round(time.time() - t_start, 1), runs=records, report=table_files,
        plots=plots, warnings=warnings + table_warnings)
    tops = ', '.join(f'{w["upstream_top1"]:.1f}%' for w in world_info.values())
    header = [f'# {label}', '',
              f'{date}; {machine}; {args.device}; data seed(s) {", ".join(map(str, data_seeds))};'
              f' upstream top-1 {tops} on {design.world.num_classes} classes; wall time '
              f'{fmt_seconds(summary["wall_seconds"])} (' + ', '.join(
                  f'{k} {fmt_seconds(v)}' for k, v in stage_seconds.items()) + '). AP in percent '
              'on the validation split; buckets by training-image count as in LVIS.', '',
              f'Detectors trained {trained_words(trained)}.', '']
    with open(osp.join(work_dir, 'summary.md'), 'w') as f:
        f.write(markdown(summary, header))
    write_json(summary, osp.join(work_dir, 'summary.json'))
    progress.print(f'   {osp.relpath(report_dir)} ({len(rows)} runs); '
                   f'{osp.relpath(osp.join(work_dir, "summary.md"))}; plots '
                   + ', '.join(osp.relpath(p) for p in plots.values() if p))
    progress.print('== the paper\'s claims (95% intervals; rule: docs/mini_study.md)')
    for line in headline_lines(summary):
        progress.print('   ' + line)
    progress.print(f'done in {fmt_seconds(time.time() - t_start)} (' + ', '.join(
        f'{k} {fmt_seconds(v)}' for k, v in stage_seconds.items()) + ')')
    return summary


def other_study(work_dir: str, profile: str, data_seeds: Sequence[int]
                ) -> Tuple[Optional[str], Optional[str]]:
    """What a study of ``profile`` on ``data_seeds`` would replace of the study whose
    ``summary.json`` is in ``work_dir``: (a refusal, a note), each None when there is nothing to
    say.

    Another profile is refused: its runs of the same variant, world and seed would be replaced
    by runs of another schedule under the same folder names, and its summary, report and plots
    overwritten. Other data seeds of the same profile are a note: the summary, report and plots
    are replaced; the previous study's runs (other worlds) stay.
    """
    import json
    path = osp.join(work_dir, 'summary.json')
    if not osp.isfile(path):
        return None, None
    try:
        with open(path) as f:
            previous = json.load(f)
    except (OSError, ValueError):
        return None, None  # not a summary this code can read: nothing to compare
    if not isinstance(previous, dict):
        return None, None
    when = previous.get('date', 'no date')
    theirs = previous.get('profile')
    if theirs is not None and theirs != profile:
        return (f'{work_dir} holds a mini-study of profile {theirs!r} ({when}); a run of profile '
                f'{profile!r} there would replace its runs with runs of another schedule under '
                'the same folder names, and its summary, report and plots. Pass another '
                f'--work-dir, or remove {path} to replace that study.'), None
    seeds = previous.get('data_seeds')
    if isinstance(seeds, list) and seeds != list(data_seeds):
        return None, (f'{work_dir} held the summary of data seed(s) {seeds} ({when}); this study '
                      f'(data seed(s) {list(data_seeds)}) replaced its summary.json, summary.md, '
                      'plots and report/; its runs under runs/ stay')
    return None, None


def trained_by_variant(records: Sequence[dict]) -> Tuple[Dict[str, dict], List[str]]:
    """variant -> how its first run trained (the records' ``trained``), and a warning for every
    run of a variant that trained otherwise than its first (then they are not replicates)."""
    out: Dict[str, dict] = {}
    warnings = []
    for r in records:
        mine = r.get('trained')
        if mine is None:
            continue
        first = out.setdefault(r['variant'], mine)
        differ = [f'{k} {mine.get(k)} against {first.get(k)}'
                  for k in sorted(set(first) | set(mine)) if first.get(k) != mine.get(k)]
        if differ:
            warnings.append(f'run {r["variant"]} world {r.get("data_seed", 0)} seed {r["seed"]} '
                            f'({r["work_dir"]}) trained otherwise than the variant\'s first run '
                            f'({", ".join(differ)}): not replicates of one experiment')
    return out, warnings


#: What a profile costs on a 2-core CPU, measured (docs/mini_study.md), said before it starts.
EXPECTED_MINUTES = {'default': 15, 'long': 85}


def premise(cls_data, det_data) -> dict:
    """How much richer the upstream is than the downstream: labelled images, per class and in
    all (the paper's: ImageNet's 1.28M images of 1000 classes against COCO's 118k of 80)."""
    import json
    with open(osp.join(det_data.root, det_data.train_ann)) as f:
        det = json.load(f)
    with open(osp.join(cls_data.root, cls_data.train_ann)) as f:
        up_images = sum(1 for line in f if line.strip())
    det_images = len(det['images'])
    per_class = up_images / max(len(cls_data.classes), 1)
    return dict(upstream_images=up_images, upstream_classes=len(cls_data.classes),
                downstream_images=det_images, downstream_classes=len(det['categories']),
                downstream_annotations=len(det['annotations']),
                image_ratio=round(up_images / max(det_images, 1), 2),
                upstream_images_per_class=round(per_class, 1),
                downstream_annotations_per_class=round(
                    len(det['annotations']) / max(len(det['categories']), 1), 1),
                paper_image_ratio=round(1281167 / 118287, 2))


def cost_claim_of(cost_claim, variants: Sequence[Variant], world: tuple, design: StudyDesign,
                  args: argparse.Namespace) -> Optional[dict]:
    """Claim 1's measurement: the fine-tuned and frozen twins of the largest decoder among the
    variants, timed round-robin in this process with the runs' threads (:mod:`.cost`); None
    without both twins.

    Returns:
        ``percent_change`` (per round, 100 x (frozen / fine-tuned step time - 1): the claim's
        replicates), ``ratio_mean``, ``trainable_params`` and ``optimizer_state_bytes`` (per
        twin), ``device`` and ``timing`` (everything :func:`.cost.cost_claim` returned).
    """
    from .claims import LARGE
    keys = {v.key for v in variants}
    if f'ft-{LARGE}' not in keys or f'frozen-{LARGE}' not in keys:
        return None
    det_data, _ = world
    twins = {v.mode: v for v in VARIANTS if v.capacity == LARGE}
    timing = cost_claim(config_path(f'mini_study/{twins["ft"].config}'),
                        config_path(f'mini_study/{twins["frozen"].config}'), det_data,
                        rounds=design.cost_rounds, iters=design.cost_iters, device=args.device,
                        threads=args.threads, batch_size=design.detector_batch_size)
    ratios = timing['ratio']['per_round']
    return dict(percent_change=[100 * (r - 1) for r in ratios], ratio_mean=timing['ratio']['mean'],
                trainable_params={t: timing['twins'][t]['trainable_params'] for t in timing['twins']},
                optimizer_state_bytes={t: timing['twins'][t]['optimizer_state_bytes']
                                       for t in timing['twins']},
                device=args.device, timing=timing)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Console entry point."""
    try:
        run_study(parse_args(argv))
    except FileExistsError as exc:  # another study in the work dir: said, nothing touched
        print(f'mmfrozen-mini-study: error: {exc}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
