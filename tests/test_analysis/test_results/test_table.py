"""Results table, metafile and plots from the logs of real tiny twin runs and damaged copies."""
import csv
import json
import math
import os
import os.path as osp
import runpy
import shutil

import pytest
import yaml
from mmengine.config import Config

from mmfrozen.analysis.results.plots import per_class_deltas
from mmfrozen.analysis.results.table import ResultsTable, main

from ...conftest import REPO
from ._tiny_runs import NAMES, train_tiny_twins

PNG = b'\x89PNG\r\n\x1a\n'
slow = pytest.mark.slow  # every test on real logs shares the ~30 s twin training


@pytest.fixture(scope='session')
def twins(tiny_coco, tmp_path_factory):
    """The fine-tuned and frozen tiny twins, trained once per session."""
    root = str(tmp_path_factory.mktemp('tiny_twins'))
    return train_tiny_twins(tiny_coco, root)


def copy_run(run, dest, name=None):
    """A copy of a run's work dir (checkpoints included) at ``dest/name``."""
    target = osp.join(str(dest), name or osp.basename(run.work_dir))
    shutil.copytree(run.work_dir, target)
    return target


def session_dir(work_dir):
    (ts,) = [n for n in os.listdir(work_dir) if n[:8].isdigit()]
    return osp.join(work_dir, ts)


def scalars(work_dir):
    return osp.join(session_dir(work_dir), 'vis_data', 'scalars.json')


def read_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def write_lines(path, records):
    with open(path, 'w') as f:
        f.writelines(json.dumps(r) + '\n' for r in records)


def summaries(table):
    """The run facts of the table's rows."""
    return [r.summary for r in table.rows]


def row_of(table, mode):
    (row,) = [r for r in table.rows if r.summary.config == NAMES[mode]]
    return row


def pct(value):
    return None if value < 0 or math.isnan(value) else 100 * value


# -- the table from real runs ------------------------------------------------------------------
@slow
def test_table_matches_what_the_runner_reported(twins, tmp_path):
    table = ResultsTable.from_work_dirs([osp.dirname(twins['ft'].work_dir)])
    assert table.warnings == []
    assert [r.summary.config for r in table.rows] == [NAMES['frozen'], NAMES['ft']]
    for mode, run in twins.items():
        row = row_of(table, mode).summary
        assert row.mode == mode  # read from the dumped config
        assert (row.detector, row.backbone, row.neck) == ('FasterRCNN', 'ResNet-18', 'FPN')
        assert row.run.iters == run.iters and row.run.epochs == run.epochs
        assert len(row.run.evals) == len(run.evals) == run.epochs
        last = run.evals[-1]
        assert row.final['box_ap'] == pytest.approx(100 * last['coco/bbox_mAP'])
        assert row.final['ap50'] == pytest.approx(100 * last['coco/bbox_mAP_50'])
        assert row.final['aps'] == pytest.approx(pct(last['coco/bbox_mAP_s']))
        assert row.final['apl'] is None  # COCOeval's -1: no large objects at 64 px
        assert row.final['mask_ap'] is None and row.final['apr'] is None
        assert row.best_box_ap == pytest.approx(max(100 * e['coco/bbox_mAP'] for e in run.evals))
        assert row.sec_per_iter > 0 and row.peak_memory_mb is None  # no memory on a CPU
        assert row.run.checkpoint.endswith(f'epoch_{run.epochs}.pth')
        expected = {c: pct(v) for c, v in ((k.split('/')[1][:-len('_precision')], v)
                                           for k, v in last.items() if k.endswith('_precision'))
                    if pct(v) is not None}
        assert row.per_class == pytest.approx(expected) and row.per_class_metric == 'bbox'

    ft, frozen = row_of(table, 'ft'), row_of(table, 'frozen')
    assert frozen.twin.twin == NAMES['ft'] and frozen.twin.runs == 1 and ft.twin is None
    deltas, mine, theirs = frozen.twin.deltas, frozen.summary, ft.summary
    assert deltas['box_ap'] == pytest.approx(mine.final['box_ap'] - theirs.final['box_ap'])
    assert deltas['best_box_ap'] == pytest.approx(mine.best_box_ap - theirs.best_box_ap)

    # parameters: same model, the frozen twin trains everything but the backbone
    from mmdet.registry import MODELS
    backbone = MODELS.build(Config.fromfile(twins['ft'].config).model.backbone)
    n_backbone = sum(p.numel() for p in backbone.parameters())
    n_stem_frozen = sum(p.numel() for p in backbone.parameters() if not p.requires_grad)
    assert frozen.total_params == ft.total_params
    assert frozen.trainable_params == ft.total_params - n_backbone
    assert ft.trainable_params == ft.total_params - n_stem_frozen  # frozen_stages=1

    out = table.write(str(tmp_path / 'out'), config_root=osp.dirname(twins['ft'].config))
    md = open(out['markdown']).read()
    assert f'{mine.final["box_ap"]:.1f}' in md and f'{deltas["box_ap"]:+.1f}' in md
    assert '| frozen |' in md and '| fine-tuned |' in md and 'APl' not in md.split('\n')[2]
    with open(out['csv']) as f:
        rows = {r['config']: r for r in csv.DictReader(f)}
    assert float(rows[NAMES['frozen']]['delta_box_ap']) == pytest.approx(deltas['box_ap'])
    assert int(rows[NAMES['ft']]['trainable_params']) == ft.trainable_params
    assert rows[NAMES['ft']]['apl'] == '' and rows[NAMES['ft']]['mode'] == 'ft'

    meta = yaml.safe_load(open(out['metafile']))
    models = {m['Name']: m for m in meta['Models']}
    entry = models[NAMES['frozen']]
    assert entry['Config'] == twins['frozen'].config
    assert entry['Metadata']['Epochs'] == 2 and entry['Metadata']['Mode'] == 'frozen'
    assert osp.isfile(entry['Weights'])
    assert entry['Results'][0]['Dataset'] == 'COCO'
    assert entry['Results'][0]['Metrics']['box AP'] == round(frozen.summary.final['box_ap'], 1)

    names = sorted(osp.basename(p) for p in out['plots'])
    assert len(names) == 3 and 'twin_deltas.png' in names
    assert any(n.startswith('curves_') for n in names)
    assert any(n.startswith('per_class_') for n in names)
    for path in out['plots']:
        assert open(path, 'rb').read(8) == PNG


@slow
def test_per_class_deltas_use_training_annotation_counts(twins, tiny_coco):
    table = ResultsTable.from_work_dirs([osp.dirname(twins['ft'].work_dir)], params=False)
    ft, frozen = row_of(table, 'ft'), row_of(table, 'frozen')
    with open(osp.join(tiny_coco.root, tiny_coco.train_ann)) as f:
        data = json.load(f)
    names = {c['id']: c['name'] for c in data['categories']}
    counts = {n: sum(names[a['category_id']] == n for a in data['annotations'])
              for n in names.values()}
    warnings = []
    points = per_class_deltas(frozen.summary, ft.summary, warnings)
    assert warnings == [] and points
    for name, count, delta in points:
        assert count == counts[name] > 0
        assert delta == pytest.approx(frozen.summary.per_class[name] - ft.summary.per_class[name])


@slow
def test_cli_with_cost_json(twins, tmp_path):
    cost = tmp_path / 'cost.json'
    entries = [dict(config=NAMES[m], mode=m, device='cpu', batch_size=4, image_size=[64, 64],
                    sec_per_iter=s, peak_memory_mb=mem, trainable_params=1, total_params=2,
                    optimizer_state_mb=o, train_flops=f)
               for m, s, mem, o, f in (('ft', 0.5, 300.0, 1.5, 4e9), ('frozen', 0.25, 120.0,
                                                                     0.75, 2e9))]
    entries.append(dict(entries[0], config='retinanet_r50-ft_fpn_1x_coco'))
    for e in entries:
        e['variant'] = 'as-config'
    # other variants of train_cost.py are not the run's cost
    entries.append(dict(entries[1], variant='limit', sec_per_iter=0.1))
    entries.append(dict(entries[0], variant='stock-frozen-stages', sec_per_iter=0.3))
    cost.write_text(json.dumps(dict(machine='test box', date='2026-01-01', torch='2.x',
                                    results=entries)))
    out = tmp_path / 'out'
    tool = runpy.run_path(osp.join(REPO, 'tools', 'analysis', 'results_table.py'))
    rc = tool['main']([osp.dirname(twins['ft'].work_dir), '--out-dir', str(out),
                       '--cost', str(cost), '--no-plots', '--no-params', '--no-file-columns'])
    assert rc == 0 and not (out / 'plots').exists()
    md = (out / 'results.md').read_text()
    assert '| Log |' not in md and '| Checkpoint |' not in md
    assert 'cost s/iter' in md and '0.250' in md and 'train GFLOPs/iter' in md
    assert 'measured on test box, 2026-01-01' in md
    assert "no run of config 'retinanet_r50-ft_fpn_1x_coco'" in md
    assert '2 measurement(s) of other variants' in md
    with open(out / 'results.csv') as f:
        rows = {r['config']: r for r in csv.DictReader(f)}
    assert float(rows[NAMES['frozen']]['cost_optimizer_state_mb']) == 0.75
    assert float(rows[NAMES['frozen']]['cost_sec_per_iter']) == 0.25
    assert float(rows[NAMES['ft']]['cost_sec_per_iter']) == 0.5
    assert float(rows[NAMES['frozen']]['cost_sec_per_iter_x_twin']) == 0.5
    assert float(rows[NAMES['frozen']]['cost_peak_memory_mb_x_twin']) == 0.4
    # with --no-params, the counts come from the cost JSON
    assert rows[NAMES['frozen']]['trainable_params'] == '1'

    cost.write_text(json.dumps(dict(results=[dict(config='x')])))
    assert tool['main']([osp.dirname(twins['ft'].work_dir), '--out-dir', str(out),
                         '--cost', str(cost)]) == 2


# -- robustness: damaged copies of the real logs -----------------------------------------------
@slow
def test_truncated_last_line(twins, tmp_path):
    work = copy_run(twins['frozen'], tmp_path)
    path = scalars(work)
    lines = open(path).read().rstrip('\n').split('\n')
    lines[1] = lines[1][:20]  # a damaged line in the middle (the second training line)
    text = '\n'.join(lines)
    with open(path, 'w') as f:
        f.write(text[:len(text) - 40])  # killed while writing the last validation line
    table = ResultsTable.from_work_dirs([work], params=False)
    (row,) = summaries(table)
    assert any('last line' in w and 'truncated' in w for w in table.warnings)
    assert any('line 2 is not valid JSON' in w for w in table.warnings)
    assert 2 not in [r['iter'] for r in row.run.train]
    assert len(row.run.evals) == 1  # the first validation survives
    first = twins['frozen'].evals[0]['coco/bbox_mAP']
    assert row.final['box_ap'] == pytest.approx(100 * first)
    assert row.run.iters == twins['frozen'].iters


@slow
def test_resumed_session_with_steps_going_back(twins, tmp_path):
    """Session 2 resumes from epoch 1 after session 1 had logged epoch 2: later records win."""
    work = copy_run(twins['ft'], tmp_path)
    first = session_dir(work)
    records = read_lines(scalars(work))
    per_epoch = twins['ft'].iters // twins['ft'].epochs
    later = [dict(r) for r in records[records.index(next(
        r for r in records if r.get('iter') == per_epoch + 1)):]]
    later[-1]['coco/bbox_mAP'] = 0.5  # the resumed run's own final result
    second = osp.join(work, '20991231_000000')
    os.makedirs(osp.join(second, 'vis_data'))
    write_lines(osp.join(second, 'vis_data', 'scalars.json'), later)
    shutil.copy(osp.join(first, 'vis_data', 'config.py'), osp.join(second, 'vis_data'))
    with open(osp.join(second, '20991231_000000.log'), 'w') as f:
        f.write(f'2099/12/31 00:00:01 - mmengine - INFO - resumed epoch: 1, iter: {per_epoch}\n')

    table = ResultsTable.from_work_dirs([work], params=False)
    (row,) = summaries(table)
    assert row.run.sessions == [osp.basename(first), '20991231_000000']
    assert any('steps go back' in w and f'resumes at iteration {per_epoch}' in w
               for w in table.warnings)
    assert [e['epoch'] for e in row.run.evals] == [1, 2]  # no duplicate epoch-2 evaluation
    assert [r['iter'] for r in row.run.train] == list(range(1, twins['ft'].iters + 1))
    assert row.final['box_ap'] == pytest.approx(50.0)


@slow
def test_duplicate_steps_in_one_file(twins, tmp_path):
    work = copy_run(twins['ft'], tmp_path)
    records = read_lines(scalars(work))
    write_lines(scalars(work), records + records)  # the same run appended twice
    table = ResultsTable.from_work_dirs([work], params=False)
    (row,) = summaries(table)
    assert any('steps go back (iteration 1 logged after' in w for w in table.warnings)
    assert len(row.run.train) == twins['ft'].iters and len(row.run.evals) == twins['ft'].epochs
    assert row.final['box_ap'] == pytest.approx(100 * twins['ft'].evals[-1]['coco/bbox_mAP'])


@slow
def test_fresh_restart_in_same_work_dir_is_its_own_run(twins, tmp_path):
    work = copy_run(twins['ft'], tmp_path)
    first = session_dir(work)
    shutil.copytree(first, osp.join(work, '20991231_000000'))  # started again, no resume
    table = ResultsTable.from_work_dirs([work], params=False)
    assert len(table.rows) == 2
    assert sorted(r.summary.run.label for r in table.rows) == [
        f'{work}@{osp.basename(first)}', f'{work}@20991231_000000']
    assert any('2 independent runs' in w for w in table.warnings)
    assert any("has 2 runs" in w for w in table.warnings)


@slow
def test_several_runs_of_one_config(twins, tmp_path):
    for mode in ('ft', 'frozen'):
        for seed in (0, 1):
            copy_run(twins[mode], tmp_path, f'{mode}_seed{seed}')
    ft_records = read_lines(scalars(str(tmp_path / 'ft_seed1')))
    ft_records[-1]['coco/bbox_mAP'] = 0.9  # a different second ft run
    write_lines(scalars(str(tmp_path / 'ft_seed1')), ft_records)
    table = ResultsTable.from_work_dirs([str(tmp_path)], params=False)
    assert len(table.rows) == 4
    ft_final = [r.summary.final['box_ap'] for r in table.rows if r.summary.mode == 'ft']
    assert sorted(ft_final) == pytest.approx(
        sorted([100 * twins['ft'].evals[-1]['coco/bbox_mAP'], 90.0]))
    for row in (r for r in table.rows if r.summary.mode == 'frozen'):
        assert row.twin.runs == 2
        assert row.twin.deltas['box_ap'] == pytest.approx(row.summary.final['box_ap'] -
                                                          sum(ft_final) / 2)
    md = table.to_markdown()
    assert 'mean of 2 runs' in md and f"config {NAMES['frozen']!r} has 2 runs" in md


def _set_seed(work_dir, seed):
    """Give a copied run's dumped configs ``randomness.seed = seed``."""
    paths = [osp.join(d, f) for d, _, files in os.walk(work_dir) for f in files
             if f.endswith('.py')]
    assert paths
    for path in paths:
        with open(path, 'a') as f:
            f.write(f'\nrandomness = dict(seed={seed})\n')


@slow
def test_runs_of_several_seeds_are_paired_with_the_twins_run_of_the_same_seed(twins, tmp_path):
    for mode in ('ft', 'frozen'):
        for seed in (0, 1):
            _set_seed(copy_run(twins[mode], tmp_path, f'{mode}_seed{seed}'), seed)
    ft_records = read_lines(scalars(str(tmp_path / 'ft_seed1')))
    ft_records[-1]['coco/bbox_mAP'] = 0.9  # the ft run of seed 1 differs
    write_lines(scalars(str(tmp_path / 'ft_seed1')), ft_records)
    table = ResultsTable.from_work_dirs([str(tmp_path)], params=False)
    ft = {r.summary.seed: r.summary.final['box_ap'] for r in table.rows
          if r.summary.mode == 'ft'}
    assert ft[1] == pytest.approx(90.0) and ft[0] != pytest.approx(90.0)
    frozen = [r for r in table.rows if r.summary.mode == 'frozen']
    assert sorted(r.summary.seed for r in frozen) == [0, 1]
    for row in frozen:  # paired: minus the same seed's twin, not the mean of both
        assert (row.twin.runs, row.twin.paired_seed) == (1, row.summary.seed)
        assert row.twin.deltas['box_ap'] == pytest.approx(row.summary.final['box_ap']
                                                          - ft[row.summary.seed])
    assert 'mean of 2 runs' not in table.to_markdown()


@slow
def test_sessions_with_different_configs_are_different_runs(twins, tmp_path):
    """A second run in the same work dir, logged every 2nd iteration, no text logs kept: its
    steps go on from the first run's, but its dumped config is another one."""
    work = copy_run(twins['ft'], tmp_path)
    first = session_dir(work)
    os.remove(osp.join(first, f'{osp.basename(first)}.log'))
    second = osp.join(work, '20991231_000000')
    shutil.copytree(session_dir(twins['frozen'].work_dir), second)
    for name in os.listdir(second):
        if name.endswith('.log'):
            os.remove(osp.join(second, name))
    records = read_lines(osp.join(second, 'vis_data', 'scalars.json'))
    write_lines(osp.join(second, 'vis_data', 'scalars.json'),
                [r for r in records if r.get('iter', 0) % 2 == 0])
    table = ResultsTable.from_work_dirs([work], params=False)
    assert sorted(r.summary.mode for r in table.rows) == ['frozen', 'ft']
    assert [len(r.summary.run.sessions) for r in table.rows] == [1, 1]
    assert any('session 20991231_000000 continues the iterations of the run of session(s) '
               f"['{osp.basename(first)}'], but its dumped config differs in" in w
               and "'custom_hooks'" in w for w in table.warnings)


@slow
def test_mode_of_backbones_loaded_with_pretrained_and_of_unknown_ones(twins, tmp_path):
    """Work dirs of other code bases: ``pretrained=<path>`` on the backbone is fine-tuning; a
    backbone type unknown here, with nothing that loads weights, is mode unknown."""
    def edit_configs(work, **backbone):
        for path in (osp.join(session_dir(work), 'vis_data', 'config.py'),
                     osp.join(work, f"{NAMES['ft']}.py")):
            cfg = Config.fromfile(path)
            cfg.model.backbone.update(backbone)
            cfg.dump(path)

    own = copy_run(twins['ft'], tmp_path, 'own')
    edit_configs(own, init_cfg=None, pretrained='resnet18.pth')
    unknown = copy_run(twins['ft'], tmp_path, 'unknown')
    edit_configs(unknown, init_cfg=None, type='HGNetv2')
    table = ResultsTable.from_work_dirs([own, unknown], params=False)
    modes = {r.summary.run.work_dir: r.summary.mode for r in table.rows}
    assert modes == {own: 'ft', unknown: 'unknown'}
    assert any(w.startswith(f'{unknown}: mmfrozen: cannot tell whether the backbone')
               and "'HGNetv2' is not registered here" in w for w in table.warnings)
    assert '| unknown |' in table.to_markdown()


@slow
def test_logs_of_another_task_give_no_row(twins, tmp_path):
    work = copy_run(twins['ft'], tmp_path, 'classifier')
    records = [r if 'iter' in r else {'accuracy/top1': 71.2, 'accuracy/top5': 90.1,
                                      'step': r['step']} for r in read_lines(scalars(work))]
    write_lines(scalars(work), records)
    table = ResultsTable.from_work_dirs([work], params=False)
    assert table.rows == []
    assert any('no detection metric' in w and 'accuracy/top1' in w for w in table.warnings)
    assert main([work, '--out-dir', str(tmp_path / 'out'), '--no-params']) == 1
    assert not (tmp_path / 'out' / 'results.md').exists()


@slow
def test_missing_metrics(twins, tmp_path):
    no_val = copy_run(twins['ft'], tmp_path, 'no_val')
    write_lines(scalars(no_val), [r for r in read_lines(scalars(no_val)) if 'iter' in r])
    no_ap75 = copy_run(twins['frozen'], tmp_path, 'no_ap75')
    write_lines(scalars(no_ap75), [{k: v for k, v in r.items() if k != 'coco/bbox_mAP_75'}
                                   for r in read_lines(scalars(no_ap75))])
    table = ResultsTable.from_work_dirs([str(tmp_path)], params=False)
    ft, frozen = row_of(table, 'ft'), row_of(table, 'frozen')
    assert ft.summary.final == {} and ft.summary.best_box_ap is None
    assert ft.summary.run.iters == twins['ft'].iters
    assert any('no_val: no evaluation results' in w for w in table.warnings)
    assert frozen.summary.final['ap75'] is None and frozen.summary.final['box_ap'] is not None
    assert frozen.twin.deltas['box_ap'] is None  # nothing to compare with
    md = table.to_markdown()
    assert md.count(NAMES['ft']) >= 2  # its row and its twin column


@slow
def test_text_log_when_scalars_are_missing(twins, tmp_path):
    work = copy_run(twins['frozen'], tmp_path)
    shutil.rmtree(osp.join(session_dir(work), 'vis_data'))
    table = ResultsTable.from_work_dirs([work], params=False)
    (row,) = summaries(table)
    assert any('values read from the text log' in w for w in table.warnings)
    assert row.mode == 'frozen'  # config from the work dir's dumped <config>.py
    assert row.run.iters == twins['frozen'].iters and row.run.epochs == twins['frozen'].epochs
    last = twins['frozen'].evals[-1]
    assert row.final['box_ap'] == pytest.approx(100 * last['coco/bbox_mAP'], abs=0.01)


@slow
def test_missing_config_and_misnamed_config(twins, tmp_path):
    bare = copy_run(twins['ft'], tmp_path, 'bare')
    os.remove(osp.join(session_dir(bare), 'vis_data', 'config.py'))
    os.remove(osp.join(bare, f'{NAMES["ft"]}.py'))
    misnamed = copy_run(twins['ft'], tmp_path, 'misnamed')
    os.rename(osp.join(misnamed, f'{NAMES["ft"]}.py'),
              osp.join(misnamed, 'faster-rcnn_r18-frozen_fpn_2e_tinycoco.py'))
    table = ResultsTable.from_work_dirs([str(tmp_path)], params=False)
    rows = {r.run.label: r for r in summaries(table)}
    assert rows[bare].mode is None and rows[bare].config == 'bare'
    assert any('mode unknown without the dumped config' in w for w in table.warnings)
    assert rows[misnamed].mode == 'ft'
    assert any("the name says mode 'frozen' but the config trains 'ft'" in w
               for w in table.warnings)


@slow
def test_empty_dir(twins, tmp_path):
    empty = tmp_path / 'empty'
    empty.mkdir()
    assert main([str(empty), '--out-dir', str(tmp_path / 'out')]) == 1
    table = ResultsTable.from_work_dirs([str(empty), osp.dirname(twins['ft'].work_dir)],
                                        params=False)
    assert len(table.rows) == 2 and any('empty directory' in w for w in table.warnings)
    with pytest.raises(FileNotFoundError, match='is not a directory'):
        ResultsTable.from_work_dirs([str(tmp_path / 'missing')])


@slow
def test_lvis_frequency_mask_and_per_class_key_variants(twins, tmp_path):
    """LVISMetric / CocoFrequencyMetric keys, mask AP and ``coco/bbox_<class>_precision``."""
    work = copy_run(twins['frozen'], tmp_path)
    records = []
    for r in read_lines(scalars(work)):
        if 'iter' not in r:
            r = {('lvis/bbox_AP' if k == 'coco/bbox_mAP' else
                  k.replace('coco/', 'coco/bbox_') if k.endswith('_precision') else k): v
                 for k, v in r.items()}
            r.update({'lvis/bbox_APr': 0.1, 'lvis/bbox_APc': 0.2, 'lvis/bbox_APf': 0.3,
                      'coco/segm_mAP': 0.05})
        records.append(r)
    write_lines(scalars(work), records)
    table = ResultsTable.from_work_dirs([work], params=False)
    (row,) = summaries(table)
    last = twins['frozen'].evals[-1]
    assert row.final['box_ap'] == pytest.approx(100 * last['coco/bbox_mAP'])
    assert (row.final['apr'], row.final['apc'], row.final['apf']) == pytest.approx((10, 20, 30))
    assert row.final['mask_ap'] == pytest.approx(5.0)
    assert row.per_class_metric == 'bbox' and set(row.per_class) <= {'shape0', 'shape1',
                                                                    'shape2'}
    assert row.per_class
    header = [c.strip() for c in table.to_markdown().split('\n')[2].strip('|').split('|')]
    assert {'APr', 'APc', 'APf', 'mask AP', 'box AP'} <= set(header)


@slow
def test_iteration_based_logs(twins, tmp_path):
    """IterBasedTrainLoop logs: no ``epoch`` key, validation logged with step 0 every time (under
    the twin's epoch-based config, which they contradict)."""
    work = copy_run(twins['ft'], tmp_path)
    records = [{k: v for k, v in r.items() if k != 'epoch'} if 'iter' in r else dict(r, step=0)
               for r in read_lines(scalars(work))]
    write_lines(scalars(work), records)
    table = ResultsTable.from_work_dirs([work], params=False)
    (row,) = summaries(table)
    per_epoch = twins['ft'].iters // twins['ft'].epochs
    assert row.run.epochs is None and row.run.iters == twins['ft'].iters
    assert [(e['iter'], e['epoch']) for e in row.run.evals] == [(per_epoch, None),
                                                                 (2 * per_epoch, None)]
    assert row.best_at.startswith('i')
    # the config kept is the epoch-based one, which cannot log a validation at step 0
    (warning,) = table.warnings
    assert 'contradict the config' in warning and 'validation logged at step 0' in warning
    assert row.curve('box_ap')[-1][0] == 2 * per_epoch


# -- fast unit tests -----------------------------------------------------------------------------
def test_empty_work_dir_session_and_stray_folder(tmp_path):
    (tmp_path / 'runs' / 'stray').mkdir(parents=True)
    (tmp_path / 'runs' / 'crashed' / '20260101_000000').mkdir(parents=True)
    table = ResultsTable.from_work_dirs([str(tmp_path / 'runs')], params=False)
    assert table.rows == []
    assert any('stray: no mmengine session folder' in w for w in table.warnings)
    assert any('no training or validation records' in w for w in table.warnings)
    assert main([str(tmp_path / 'runs'), '--out-dir', str(tmp_path / 'out')]) == 1


# -- a sweep run ---------------------------------------------------------------------------------
@slow
def test_a_sweep_gives_one_row_per_member_with_twin_differences(twins, tmp_path):
    """A tiny sweep of the frozen twin's config: as it is, and with a narrower RPN at a lower
    learning rate (``cfg_options``), trained next to the twins by the real Runner."""
    from mmengine.registry import RUNNERS

    from mmfrozen.analysis.params import count_config
    from mmfrozen.sweep import split_sweep_checkpoint
    from tests.utils import tiny_sweep_config

    from ._tiny_runs import _reset_mmengine_globals
    frozen = twins['frozen'].config
    narrow = {'optim_wrapper.optimizer.lr': 0.005, 'model.rpn_head.feat_channels': 8}
    members = dict(base=frozen, narrow=dict(config=frozen, cfg_options=narrow))
    name = 'faster-rcnn-sweep_r18-frozen_fpn-rpn2_2e_tinycoco'
    cfg = tiny_sweep_config(members, frozen)
    cfg.work_dir = str(tmp_path / 'work_dirs' / name)
    path = str(tmp_path / f'{name}.py')
    cfg.dump(path)
    _reset_mmengine_globals()
    runner = RUNNERS.build(Config.fromfile(path))
    runner.train()
    logged = {m: float(runner.message_hub.get_scalar(f'val/{m}/coco/bbox_mAP').current())
              for m in members}
    _reset_mmengine_globals()
    split_sweep_checkpoint(osp.join(cfg.work_dir, f'epoch_{runner.epoch}.pth'), cfg.work_dir)

    table = ResultsTable.from_work_dirs([osp.dirname(twins['ft'].work_dir),
                                         str(tmp_path / 'work_dirs')])
    rows = {r.summary.run.sweep[1]: r for r in table.rows if r.summary.run.sweep}
    assert [r.summary.run.sweep for r in rows.values()] == [(name, 'base'), (name, 'narrow')]
    assert not [r for r in table.rows if r.summary.config == name]  # no row for the sweep
    ft = row_of(table, 'ft')
    member_cfg = Config.fromfile(frozen)
    member_cfg.merge_from_dict(narrow)
    counts = dict(base=count_config(frozen), narrow=count_config(member_cfg))
    for member, row in rows.items():
        summary = row.summary
        assert summary.config == NAMES['frozen'] and summary.mode == 'frozen'
        assert summary.final['box_ap'] == pytest.approx(100 * logged[member])
        assert row.twin.twin == NAMES['ft']
        assert row.twin.deltas['box_ap'] == pytest.approx(
            summary.final['box_ap'] - ft.summary.final['box_ap'])
        # the member as if trained alone: the shared backbone and its own neck and heads
        assert (row.trainable_params, row.total_params) == (counts[member].trainable,
                                                            counts[member].total)
        assert summary.run.iters == runner.iter and summary.sec_per_iter > 0
    base, small = rows['base'], rows['narrow']
    (alone,) = [r for r in table.rows
                if r.summary.config == NAMES['frozen'] and r.summary.run.sweep is None]
    assert (base.trainable_params, base.total_params) == (alone.trainable_params,
                                                          alone.total_params)
    assert small.trainable_params < base.trainable_params  # its narrower RPN
    assert (base.total_params - base.trainable_params ==
            small.total_params - small.trainable_params)  # the same frozen backbone
    # each member's own learning rate and losses
    base_lr = Config.fromfile(frozen).optim_wrapper.optimizer.lr
    for a, b in zip(base.summary.run.train, small.summary.run.train):
        assert b['lr'] == pytest.approx(a['lr'] * 0.005 / base_lr)
        assert 'loss_rpn_cls' in a and a['loss_rpn_cls'] != b['loss_rpn_cls']
    assert any('a sweep of 2 members (base, narrow), one row each' in w for w in table.warnings)

    out = table.write(str(tmp_path / 'out'), config_root=None, plots=False)
    md = open(out['markdown']).read()
    share = 100 * base.trainable_params / base.total_params
    assert f'| {name} [base] |' in md and f'| {name} [narrow] |' in md and f'| {share:.0f}% |' in md
    with open(out['csv']) as f:
        csv_rows = {r['sweep_member']: r for r in csv.DictReader(f) if r['sweep']}
    assert set(csv_rows) == {'base', 'narrow'} and csv_rows['base']['sweep'] == name
    assert float(csv_rows['narrow']['trainable_share']) == pytest.approx(
        small.trainable_params / small.total_params, abs=1e-4)
    with open(out['metafile']) as f:
        weights = sorted(osp.basename(m['Weights']) for m in yaml.safe_load(f)['Models']
                         if name in m.get('Weights', ''))
    assert weights == [f'epoch_{runner.epoch}_base.pth', f'epoch_{runner.epoch}_narrow.pth']
