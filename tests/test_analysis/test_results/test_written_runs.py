"""The results table on work dirs written as mmengine writes them (:mod:`._written_work_dirs`):
what joins the sessions of one run, which runs get a row, what is said and how often."""
import math
import os
import os.path as osp
import shutil

import pytest

from mmfrozen.analysis.results.table import ResultsTable

from ._written_work_dirs import config_text, training_logs, write_session

EPOCHS = 'EpochBasedTrainLoop'
#: What mmfrozen's CPU launcher (torchrun on CPU) dumps, and the same run on a GPU machine.
CPU_DDP = ("launcher = 'pytorch'\nenv_cfg = dict(dist_cfg=dict(backend='gloo'))\n"
           "model_wrapper_cfg = dict(broadcast_buffers=False, find_unused_parameters=False, "
           "type='MMDistributedDataParallel')")
GPU_DDP = "launcher = 'pytorch'\nenv_cfg = dict(dist_cfg=dict(backend='nccl'))"


def resumed_run(work, config, resumed_config, aps=(0.1, 0.3, 0.2)):
    """3 epochs of 4 iterations, killed after epoch 2 and resumed from epoch_2.pth, the second
    session dumping ``resumed_config``."""
    records, text = training_logs(EPOCHS, 3, per_epoch=4, val_interval=1, aps=list(aps),
                                  interval=2)
    cut = [i for i, r in enumerate(records) if r.get('step') == 2 and 'iter' not in r][0] + 1
    write_session(work, '20261201_100000', config, 'retina_tiny', (records[:cut], text[:2 + cut]))
    write_session(work, '20261202_100000', resumed_config, 'retina_tiny',
                  (records[cut:], text[:2] + text[2 + cut:]), resumed=(2, 8))


@pytest.mark.parametrize('change', [
    ('logger=dict(interval=50,', 'logger=dict(interval=10,'),
    ('num_workers=2)', 'num_workers=8)'),
    ("log_level = 'INFO'", "log_level = 'DEBUG'"),
    ("launcher = 'none'", CPU_DDP),
], ids=['logger-interval', 'num-workers', 'log-level', 'cpu-ddp'])
def test_resume_after_a_runtime_only_change_is_one_run(tmp_path, change):
    config = config_text(EPOCHS, 3, 1)
    if change[1] == CPU_DDP:  # trained with the CPU launcher, resumed on GPUs
        config, change = config.replace(*change), (CPU_DDP, GPU_DDP)
    work = str(tmp_path / 'retina_tiny')
    resumed_run(work, config, config.replace(*change))
    table = ResultsTable.from_work_dirs([work], params=False)
    (row,) = table.rows
    assert row.summary.run.epochs == 3 and row.summary.best_at == 'e2'
    (said,) = [w for w in table.warnings if 'changed in' in w]
    assert 'not what is trained); one run' in said


def test_resume_after_an_experiment_change_is_another_run(tmp_path):
    config = config_text(EPOCHS, 3, 1)
    work = str(tmp_path / 'retina_tiny')
    resumed_run(work, config, config.replace('lr=0.01,', 'lr=0.02,').replace(
        'num_workers=2)', 'num_workers=8)'))
    table = ResultsTable.from_work_dirs([work], params=False)
    assert len(table.rows) == 2
    assert any("dumped config differs in ['optim_wrapper']: another run" in w
               for w in table.warnings)


def test_segm_only_run_gets_a_row(tmp_path):
    """A Mask R-CNN validated on masks only (``metric='segm'``: CocoMetric logs
    ``coco/segm_mAP``...): a detection run with a mask AP and no box AP."""
    records, text = training_logs(EPOCHS, 1, per_epoch=4, val_interval=1, aps=[None],
                                  interval=2)
    records[-1].update({'coco/segm_mAP': 0.25, 'coco/segm_mAP_50': 0.4})
    config = config_text(EPOCHS, 1, 1).replace("metric='bbox'", "metric='segm'")
    work = str(tmp_path / 'mask-rcnn_r50-frozen_fpn_1x_coco')
    write_session(work, '20261201_100000', config, 'mask-rcnn_r50-frozen_fpn_1x_coco',
                  (records, text))
    table = ResultsTable.from_work_dirs([work], params=False)
    (row,) = table.rows
    assert row.summary.final['mask_ap'] == 25.0 and row.summary.final['box_ap'] is None
    assert not any('no detection metric' in w or 'has no box AP' in w for w in table.warnings)


def test_what_is_said_about_a_config_is_said_once_across_work_dirs_and_resumes(tmp_path):
    """Two seeds of one config in two work dirs (the dumped configs differ in ``work_dir``), the
    second one resumed (``resume=True``), a model that does not build here (ResNet depth 51)
    and a name off the convention: each is said once."""
    base = config_text(EPOCHS, 3, 1, depth=51)
    for k in (1, 2):
        work = str(tmp_path / f'restarted_seed{k}')
        config = base.replace("work_dir = './work_dirs/run'", f"work_dir = '{work}'")
        resumed_run(work, config, config.replace('resume = False', 'resume = True'))
    table = ResultsTable.from_work_dirs([str(tmp_path)])
    assert len(table.rows) == 2
    assert len([w for w in table.warnings if 'cannot build the model to count' in w]) == 1
    assert len([w for w in table.warnings if "config name 'retina_tiny' does not follow" in w]) \
        == 1


def test_a_transient_non_finite_loss_is_not_divergence(tmp_path):
    """One logged window with a NaN loss (a step the mixed-precision wrapper skipped), finite
    after it, a good final AP: said as non-finite from-to and finite again, not diverged."""
    records, text = training_logs(EPOCHS, 2, per_epoch=20, val_interval=1, aps=[0.30, 0.35],
                                  interval=5)
    for r in records:
        if r.get('iter') == 10:
            r['loss'] = r['loss_bbox'] = math.nan
    work = str(tmp_path / 'amp_run')
    write_session(work, '20261201_100000', config_text(EPOCHS, 2, 1), 'amp_run', (records, text))
    table = ResultsTable.from_work_dirs([work], params=False)
    assert not any('diverged' in w for w in table.warnings)
    assert any('loss nan at iterations 10-10, finite again from 15' in w and
               'not a divergence' in w for w in table.warnings)
    assert table.rows[0].summary.final['box_ap'] == pytest.approx(35.0)


def test_a_diverged_twin_run_is_left_out_of_every_difference(tmp_path):
    """The fine-tuned twin has two seeds, one diverged in its last epoch (its last validation
    logged no metric): both differences are taken against the other seed, and the Twin cell
    says so."""
    ft, frozen = 'retinanet_r18-ft_fpn_2e_coco', 'retinanet_r18-frozen_fpn_2e_coco'
    config = config_text(EPOCHS, 2, 1)
    for work, aps, nan_from in ((f'{ft}_seed1', [0.30, 0.40], None),
                                (f'{ft}_seed2', [0.45, None], 25), (frozen, [0.30, 0.35], None)):
        write_session(str(tmp_path / work), '20261201_100000', config, work.split('_seed')[0],
                      training_logs(EPOCHS, 2, per_epoch=20, val_interval=1, aps=aps,
                                    interval=5, nan_from=nan_from))
    table = ResultsTable.from_work_dirs([str(tmp_path)], params=False)
    (row,) = [r for r in table.rows if r.summary.config == frozen]
    assert row.twin.deltas['box_ap'] == pytest.approx(-5.0)
    assert row.twin.deltas['best_box_ap'] == pytest.approx(-5.0)  # not against seed2's 45
    assert (row.twin.runs, row.twin.diverged) == (1, 1)
    assert f'| {ft} (1 diverged run(s) left out) |' in table.to_markdown()


ITERS = 'IterBasedTrainLoop'


def test_a_run_is_not_read_with_a_later_runners_config(tmp_path):
    """One process trains an iteration-based run (logged by epoch: ``epoch: 1``, validation
    ``step: 0``), then an epoch-based one, which reuses the first one's visualizer and dumps its
    config over the first one's ``config.py`` and ``toy.py``: the first run is not read with
    it (no Epochs, no schedule of the other run, best at an iteration)."""
    work = str(tmp_path / 'notebook')
    first, second = '20261201_100000', '20261201_101500'
    write_session(work, first, config_text(ITERS, 100, 50), 'toy',
                  training_logs(ITERS, 100, per_epoch=40, val_interval=50, aps=[0.15, 0.05],
                                interval=10))
    write_session(work, second, config_text(EPOCHS, 3, 1), 'toy',
                  training_logs(EPOCHS, 3, per_epoch=4, val_interval=1, aps=[0.1, 0.3, 0.2],
                                interval=2), vis_data=f'{work}/{first}/vis_data')
    table = ResultsTable.from_work_dirs([work], params=False)
    runs = {r.summary.run.sessions[0]: r.summary for r in table.rows}
    iter_run = runs[first]
    assert (iter_run.run.epochs, iter_run.best_at, iter_run.schedule) == (None, 'i50', '')
    assert iter_run.run.config_path is None
    assert not any('using toy.py of the work dir' in w for w in table.warnings)
    assert (runs[second].run.epochs, runs[second].best_at) == (3, 'e2')


@pytest.mark.parametrize('logs', ['scalars', 'text'])
def test_an_iteration_run_without_its_config_is_read_by_iteration(tmp_path, logs):
    """Its configs lost (logs copied alone); validation ``step`` 0 in the scalars and a batch
    index past the dataloader's length in the text log (``[1][500/118]``) show an iteration-based
    loop: no Epochs, best at an iteration, not ``e0``."""
    work = str(tmp_path / 'retina_tiny')
    ts = '20261201_100000'
    write_session(work, ts, config_text(ITERS, 1500, 500), 'retina_tiny',
                  training_logs(ITERS, 1500, per_epoch=118, val_interval=500,
                                aps=[0.2, 0.3, 0.25]))
    os.remove(osp.join(work, ts, 'vis_data', 'config.py'))
    os.remove(osp.join(work, 'retina_tiny.py'))
    if logs == 'text':
        shutil.rmtree(osp.join(work, ts, 'vis_data'))
    table = ResultsTable.from_work_dirs([work], params=False)
    (row,) = table.rows
    assert row.summary.run.epochs is None and row.summary.best_at == 'i1000'


def test_text_log_keeps_class_names_with_a_space(tmp_path):
    """CocoMetric(classwise=True) logs ``coco/traffic light_precision``: read from the text log
    alone (no vis_data), the per-class AP is the scalars' one, multi-word names included."""
    per_class = {'coco/person_precision': 0.5, 'coco/traffic light_precision': 0.2,
                 'coco/fire hydrant_precision': 0.6, 'coco/light_precision': 0.9}
    records, text = training_logs(EPOCHS, 1, per_epoch=4, val_interval=1, aps=[0.3], interval=2)
    records[-1].update(per_class)
    text[-1] = text[-1].replace('data_time:', '  '.join(
        f'{k}: {v:.4f}' for k, v in per_class.items()) + '  data_time:')
    work = str(tmp_path / 'scalars' / 'retina_tiny')
    write_session(work, '20261201_100000', config_text(EPOCHS, 1, 1), 'retina_tiny',
                  (records, text))
    shutil.copytree(work, str(tmp_path / 'text' / 'retina_tiny'))
    shutil.rmtree(str(tmp_path / 'text' / 'retina_tiny' / '20261201_100000' / 'vis_data'))
    got = {root: ResultsTable.from_work_dirs([str(tmp_path / root)], params=False)
           .rows[0].summary.per_class for root in ('scalars', 'text')}
    assert got['text'] == got['scalars'] == {'person': 50.0, 'traffic light': 20.0,
                                             'fire hydrant': 60.0, 'light': 90.0}


@pytest.mark.parametrize('variant', ['lr', 'seed'])
def test_twin_runs_of_different_configs_are_not_averaged(tmp_path, variant):
    """Two runs of the fine-tuned config: the second with ``--cfg-options
    optim_wrapper.optimizer.lr=0.002`` (not a repeat: no mean, no difference, said), or with
    another seed (a repeat: compared with the mean)."""
    ft, frozen = 'retinanet_r18-ft_fpn_1x_coco', 'retinanet_r18-frozen_fpn_1x_coco'
    config = config_text(EPOCHS, 1, 1)
    other = (config.replace('lr=0.01,', 'lr=0.002,') if variant == 'lr' else
             config + 'randomness = dict(seed=2)\n')
    for work, stem, text, ap in ((ft, ft, config, 0.40), (f'{ft}_2', ft, other, 0.20),
                                 (frozen, frozen, config, 0.38)):
        write_session(str(tmp_path / work), '20261201_100000', text, stem,
                      training_logs(EPOCHS, 1, per_epoch=4, val_interval=1, aps=[ap],
                                    interval=2))
    table = ResultsTable.from_work_dirs([str(tmp_path)], params=False)
    (row,) = [r for r in table.rows if r.summary.config == frozen]
    if variant == 'seed':
        assert row.twin.runs == 2 and row.twin.deltas['box_ap'] == pytest.approx(8.0)
        return
    assert row.twin is None
    assert any(f"config '{ft}': its runs are not repeats of one experiment: their dumped "
               "configs differ in ['optim_wrapper']" in w for w in table.warnings)


@pytest.mark.parametrize('twin_metric', ['lvis', 'coco'])
def test_two_evaluators_reporting_box_ap(tmp_path, twin_metric):
    """A run validated by CocoMetric and mmfrozen.LVISMetric (COCO-style and federated box AP of
    one model): every cell from one evaluator (LVIS's, which has APr), said; the difference to
    the twin from the evaluator the twin has (like for like)."""
    ft, frozen = 'mask-rcnn_r50-ft_fpn_1x_lvis-v1', 'mask-rcnn_r50-frozen_fpn_1x_lvis-v1'
    twin = {'lvis': {'lvis/bbox_AP': 0.22, 'lvis/bbox_APr': 0.10},
            'coco': {'coco/bbox_mAP': 0.25}}[twin_metric]
    for stem, metrics in ((ft, twin), (frozen, {'coco/bbox_mAP': 0.30, 'lvis/bbox_AP': 0.24,
                                                'lvis/bbox_APr': 0.14})):
        records, text = training_logs(EPOCHS, 1, per_epoch=4, val_interval=1, aps=[None],
                                      interval=2)
        records[-1].update(metrics)
        write_session(str(tmp_path / stem), '20261201_100000', config_text(EPOCHS, 1, 1), stem,
                      (records, text))
    table = ResultsTable.from_work_dirs([str(tmp_path)], params=False)
    (row,) = [r for r in table.rows if r.summary.config == frozen]
    assert row.summary.final['box_ap'] == pytest.approx(24.0)
    assert row.summary.final['apr'] == pytest.approx(14.0)
    assert row.twin.deltas['box_ap'] == pytest.approx({'lvis': 2.0, 'coco': 5.0}[twin_metric])
    assert any("box AP is reported by several evaluators (prefixes ['coco', 'lvis'])" in w
               for w in table.warnings)
