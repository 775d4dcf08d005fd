"""The results table on work dirs of runs the tiny twins are not (written as mmengine writes
them): iteration-based, diverged, several Runners of one process, a best that is not the last."""
import csv
import os
import os.path as osp
import shutil
import time

import pytest
import torch
from mmengine.config import Config
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.registry import DATASETS, METRICS, MODELS
from mmengine.runner import Runner

from mmfrozen.analysis.results.table import ResultsTable

from ._written_work_dirs import config_text, training_logs, write_session

EPOCHS = 'EpochBasedTrainLoop'
ITERS = 'IterBasedTrainLoop'


def header_and_row(md, config):
    lines = md.split('\n')
    header = [c.strip() for c in lines[2].strip('|').split('|')]
    (row,) = [[c.strip() for c in line.strip('|').split('|')] for line in lines
              if line.startswith(f'| {config} ')]
    return dict(zip(header, row))


def test_iteration_based_run_logged_by_epoch(tmp_path):
    """IterBasedTrainLoop with mmengine's default ``log_processor.by_epoch=True``: every training
    line says ``epoch: 1``, validation ``step: 0``; a name with no schedule in it."""
    config = config_text(ITERS, 1500, 500)
    logs = training_logs(ITERS, 1500, per_epoch=118, val_interval=500, aps=[0.2, 0.3, 0.25])
    assert {r['epoch'] for r in logs[0] if 'iter' in r} == {1}
    work = str(tmp_path / 'scalars' / 'retina_tiny')
    write_session(work, '20261201_100000', config, 'retina_tiny', logs)
    text_only = str(tmp_path / 'text' / 'retina_tiny')  # the same run, its text log alone
    shutil.copytree(work, text_only)
    shutil.rmtree(osp.join(text_only, '20261201_100000', 'vis_data'))

    for root in ('scalars', 'text'):
        table = ResultsTable.from_work_dirs([str(tmp_path / root)], params=False)
        (row,) = table.rows
        summary = row.summary
        assert summary.run.iters == 1500 and summary.run.epochs is None
        assert [(e['iter'], e['epoch']) for e in summary.run.evals] == [
            (500, None), (1000, None), (1500, None)]
        assert summary.schedule == '1500i'
        assert summary.best_box_ap == pytest.approx(30.0) and summary.best_at == 'i1000'
        assert summary.final['box_ap'] == pytest.approx(25.0, abs=0.01)
        assert [x for x, _ in summary.curve('box_ap')] == [500, 1000, 1500]
        cells = header_and_row(table.to_markdown(), 'retina_tiny')
        assert cells['Schedule'] == '1500i' and cells['best box AP'] == '30.0 (i1000)'
        assert cells['Iters'] == '1500' and 'Epochs' not in cells


def test_several_runners_of_one_process_and_a_config_their_logs_contradict(tmp_path):
    """A notebook trains an epoch-based run (150 epochs of one iteration), then the same config
    file edited into an iteration-based one, in one process: the second Runner reuses the first
    one's visualizer (mmdet names it 'visualizer'), so its scalars are appended to the first
    session's scalars.json, beside its own <timestamp>.json, and its config is dumped over the
    first one's; only its text log is in its own session folder."""
    work = str(tmp_path / 'notebook')
    first, second = '20261201_100000', '20261201_101500'
    shared = osp.join(work, first, 'vis_data')
    epochs_logs = training_logs(EPOCHS, 150, per_epoch=1, val_interval=50,
                                aps=[0.1, 0.2, 0.3])
    assert all(r['epoch'] == r['iter'] for r in epochs_logs[0] if 'iter' in r)
    write_session(work, first, config_text(EPOCHS, 150, 50), 'toy', epochs_logs)
    write_session(work, second, config_text(ITERS, 100, 50), 'toy',
                  training_logs(ITERS, 100, per_epoch=40, val_interval=50, aps=[0.05, 0.15],
                                interval=10), vis_data=shared)
    assert not osp.exists(osp.join(work, second, 'vis_data'))
    assert sorted(os.listdir(shared)) == [f'{first}.json', f'{second}.json', 'config.py',
                                          'scalars.json']

    table = ResultsTable.from_work_dirs([work], params=False)
    runs = {r.summary.run.sessions[0]: r.summary for r in table.rows}
    assert sorted(runs) == [first, second]
    epoch_run, iter_run = runs[first], runs[second]
    assert epoch_run.run.iters == 150 and epoch_run.run.epochs == 150
    assert epoch_run.run.log_files == [osp.join(shared, f'{first}.json')]
    assert epoch_run.final['box_ap'] == pytest.approx(30.0) and epoch_run.best_at == 'e150'
    assert iter_run.run.log_files == [osp.join(shared, f'{second}.json')]  # not its text log
    assert iter_run.run.iters == 100 and iter_run.run.epochs is None
    assert iter_run.schedule == '100i' and iter_run.best_at == 'i100'
    assert any(w.startswith(f'{shared}: holds the scalars of sessions') for w in table.warnings)
    assert not any('values read from the text log' in w for w in table.warnings)
    # toy.py and config.py are the later session's: not taken for the first session's
    assert any(w.startswith(f"{work}: sessions ['{first}'] shared their visualizer with a later "
                            'Runner') for w in table.warnings)
    assert epoch_run.run.config_path is None and epoch_run.mode is None
    assert epoch_run.schedule == ''  # from neither the name nor another run's config


def test_scalars_of_another_work_dirs_session_are_left_out_with_a_warning(tmp_path):
    """A script trains two configs into two work dirs in one process: the second Runner's
    scalars land in the first work dir's session; its own work dir has its text log."""
    first, second = str(tmp_path / 'first'), str(tmp_path / 'second')
    shared = osp.join(first, '20261201_100000', 'vis_data')
    write_session(first, '20261201_100000', config_text(EPOCHS, 2, 1), 'first',
                  training_logs(EPOCHS, 2, per_epoch=4, val_interval=1, aps=[0.1, 0.2],
                                interval=2))
    write_session(second, '20261201_100500', config_text(EPOCHS, 3, 1), 'second',
                  training_logs(EPOCHS, 3, per_epoch=4, val_interval=1, aps=[0.3, 0.4, 0.5],
                                interval=2), vis_data=shared)
    table = ResultsTable.from_work_dirs([first, second], params=False)
    runs = {r.summary.config: r.summary for r in table.rows}
    assert (runs['first'].run.iters, runs['first'].final['box_ap']) == (8, pytest.approx(20.0))
    assert (runs['second'].run.iters, runs['second'].final['box_ap']) == (12, pytest.approx(50.0))
    assert runs['second'].run.log_files == [osp.join(second, '20261201_100500',
                                                     '20261201_100500.log')]
    assert any(w.startswith(f'{osp.join(shared, "20261201_100500.json")}: the scalars of '
                            f'session 20261201_100500, which is not a session of {first}')
               for w in table.warnings)


def test_diverged_run_is_said_to_have_diverged(tmp_path):
    """Losses NaN from iteration 10; CocoMetric then finds no detections and logs no metric:
    the validation lines hold only ``data_time``, ``time`` and ``step``."""
    logs = training_logs(EPOCHS, 2, per_epoch=20, val_interval=1, aps=[None, None], interval=5,
                         nan_from=10)
    assert [r for r in logs[0] if 'iter' not in r] == [
        dict(data_time=0.01, time=0.1, step=1), dict(data_time=0.01, time=0.1, step=2)]
    work = str(tmp_path / 'scalars' / 'diverged')
    write_session(work, '20261201_100000', config_text(EPOCHS, 2, 1), 'diverged', logs)
    text_only = str(tmp_path / 'text' / 'diverged')
    shutil.copytree(work, text_only)
    shutil.rmtree(osp.join(text_only, '20261201_100000', 'vis_data'))

    for root in ('scalars', 'text'):
        table = ResultsTable.from_work_dirs([str(tmp_path / root)], params=False)
        assert not any('validation never ran' in w for w in table.warnings)
        assert any('diverged: loss is nan from iteration 10 on; 2 evaluation(s) (at iterations '
                   '20, 40) ran but logged no metric' in w for w in table.warnings)
        (row,) = table.rows
        assert [e['metrics'] for e in row.summary.run.evals] == [{}, {}]
        assert row.summary.final['box_ap'] is None and row.summary.best_box_ap is None


def test_what_is_said_about_a_config_is_said_once(tmp_path):
    """Two independent runs of one config whose model does not build here (ResNet depth 51) and
    whose name does not follow the convention: one warning each, not one per session."""
    work = str(tmp_path / 'restarted')
    config = config_text(EPOCHS, 1, 1, depth=51)
    for ts in ('20261201_100000', '20261202_100000'):  # both start from the first iteration
        write_session(work, ts, config, 'restarted',
                      training_logs(EPOCHS, 1, per_epoch=4, val_interval=1, aps=[0.1],
                                    interval=2))
    table = ResultsTable.from_work_dirs([work])
    assert len(table.rows) == 2
    assert all(r.trainable_params is None for r in table.rows)
    failed = [w for w in table.warnings if 'cannot build the model to count parameters' in w]
    assert len(failed) == 1 and 'KeyError' in failed[0]
    assert failed[0].endswith('the parameter columns are empty for this run and every other run '
                              'of the same config')
    assert len([w for w in table.warnings if "config name 'restarted' does not follow" in w]) == 1


def test_best_box_ap_is_the_highest_evaluation_not_the_last(tmp_path):
    work = str(tmp_path / 'peaked')
    write_session(work, '20261201_100000', config_text(EPOCHS, 3, 1), 'peaked',
                  training_logs(EPOCHS, 3, per_epoch=4, val_interval=1, aps=[0.3, 0.5, 0.4],
                                interval=2))
    table = ResultsTable.from_work_dirs([work], params=False)
    (row,) = table.rows
    assert row.summary.final['box_ap'] == pytest.approx(40.0)
    assert row.summary.best_box_ap == pytest.approx(50.0) and row.summary.best_at == 'e2'
    assert row.summary.schedule == '3e' and row.summary.run.epochs == 3
    cells = header_and_row(table.to_markdown(), 'peaked')
    assert (cells['box AP'], cells['best box AP']) == ('40.0', '50.0 (e2)')
    csv_path = table.write(str(tmp_path / 'out'), config_root=None, plots=False)['csv']
    with open(csv_path) as f:
        (line,) = csv.DictReader(f)
    assert (float(line['best_box_ap']), line['best_at']) == (50.0, 'e2')


# -- real Runners --------------------------------------------------------------------------------
@MODELS.register_module()
class ResultsTableToyModel(BaseModel):
    """y = w x + b, fitted to y = x: a model whose training the Runner logs in milliseconds."""

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(1, 1)

    def forward(self, inputs, targets=None, mode='tensor'):
        out = self.fc(inputs).squeeze(-1)
        if mode == 'loss':
            return dict(loss=((out - targets) ** 2).mean())
        return list(out)


@DATASETS.register_module()
class ResultsTableToyData(torch.utils.data.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return dict(inputs=torch.tensor([i / 8.0]), targets=torch.tensor(i / 8.0))


@METRICS.register_module()
class ResultsTableToyAP(BaseMetric):
    """Logs ``coco/bbox_mAP``: the given values, one per evaluation."""
    default_prefix = 'coco'

    def __init__(self, values=(), **kwargs):
        super().__init__(**kwargs)
        self.values = list(values)

    def process(self, data_batch, data_samples):
        self.results.append(len(data_samples))

    def compute_metrics(self, results):
        return dict(bbox_mAP=self.values.pop(0))


def toy_config(path, work_dir, train_cfg, aps):
    loader = dict(dataset=dict(type='ResultsTableToyData'), batch_size=2,
                  sampler=dict(type='DefaultSampler', shuffle=False),
                  collate_fn=dict(type='default_collate'))
    Config(dict(
        model=dict(type='ResultsTableToyModel'), work_dir=work_dir, train_cfg=train_cfg,
        train_dataloader=loader, val_dataloader=loader, val_cfg=dict(),
        val_evaluator=dict(type='ResultsTableToyAP', values=aps),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=2)),
        # as mmdet's default_runtime names it: the name that makes Runners share it
        visualizer=dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend')],
                        name='visualizer'))).dump(path)
    return Config.fromfile(path)


def test_real_runners_of_one_process_share_a_visualizer(tmp_path):
    """Two real Runners, one after the other in one process, into one work dir, from one
    config file edited in between: 3 epochs of 4 iterations, then 6 iterations of an
    IterBasedTrainLoop logged by epoch (mmengine's default LogProcessor)."""
    work, path = str(tmp_path / 'work_dirs' / 'toy'), str(tmp_path / 'toy.py')
    Runner.from_cfg(toy_config(path, work, dict(type='EpochBasedTrainLoop', max_epochs=3),
                               [0.1, 0.3, 0.2])).train()
    time.sleep(1.1)  # the sessions' timestamps are in seconds
    Runner.from_cfg(toy_config(path, work, dict(type='IterBasedTrainLoop', max_iters=6,
                                                val_interval=2), [0.4, 0.6, 0.5])).train()
    first, second = sorted(n for n in os.listdir(work) if n[:8].isdigit() and '.' not in n)
    assert sorted(os.listdir(osp.join(work, first, 'vis_data'))) == [
        f'{first}.json', f'{second}.json', 'config.py', 'scalars.json']
    assert os.listdir(osp.join(work, second)) == [f'{second}.log']

    table = ResultsTable.from_work_dirs([work], params=False)
    runs = {r.summary.run.sessions[0]: r.summary for r in table.rows}
    assert sorted(runs) == [first, second]
    assert (runs[first].run.iters, runs[first].run.epochs) == (12, 3)
    assert runs[first].best_box_ap == pytest.approx(30.0) and runs[first].best_at == 'e2'
    assert any(f"sessions ['{first}'] shared their visualizer with a later Runner" in w
               for w in table.warnings)
    iters = runs[second]
    assert (iters.run.iters, iters.run.epochs, iters.schedule) == (6, None, '6i')
    assert iters.best_box_ap == pytest.approx(60.0) and iters.best_at == 'i4'
    assert iters.final['box_ap'] == pytest.approx(50.0)


@pytest.mark.parametrize('config, loop', [
    ('faster_rcnn/faster-rcnn_r50-frozen_fpn_1x_coco.py', ('EpochBasedTrainLoop', True, 12, None)),
    ('mini_study/fcos_r18-ft_fpn_1xb8-450it_shapes.py', ('IterBasedTrainLoop', False, None, 450)),
    ('mini_study/upstream/resnet18-w16_1xb64-1000it_shapes-cls.py', ('', False, None, 1000)),
])
def test_training_loop_of_dumped_package_configs(config, loop, tmp_path):
    from mmfrozen.analysis.results.train_loop import read_train_loop

    from ...conftest import CONFIGS
    path = str(tmp_path / 'config.py')
    Config.fromfile(osp.join(CONFIGS, config)).dump(path)  # as the Runner dumps it
    found = read_train_loop(path)
    assert (found.type, found.by_epoch, found.max_epochs, found.max_iters) == loop
    assert found.schedule == (f'{loop[2]}e' if loop[1] else f'{loop[3]}i')


def test_split_member_files_next_to_the_checkpoint_name_neither_config_nor_checkpoint(tmp_path):
    """A work dir copied without ``last_checkpoint`` and under another name, whose sessions have
    no ``vis_data/config.py`` (a TensorBoard-only run), after the sweep split wrote
    ``epoch_2_<member>.py/.pth`` next to ``epoch_2.pth``: the run keeps its config (the one
    ``<config>.py``, not the members' files) and its checkpoint (``epoch_2.pth``, not the member
    ``r3``'s ``epoch_2_r3.pth``)."""
    config = config_text(EPOCHS, 2, 1)
    logs = training_logs(EPOCHS, 2, per_epoch=100, val_interval=1, aps=[0.2, 0.3])
    work = str(tmp_path / 'runs' / 'my_copy')
    write_session(work, '20261201_100000', config, 'retina_tiny', logs)
    os.remove(osp.join(work, '20261201_100000', 'vis_data', 'config.py'))
    for name in ('epoch_1', 'epoch_2', 'epoch_2_r3', 'epoch_2_wide-fpn'):
        torch.save({}, osp.join(work, f'{name}.pth'))
    for member in ('r3', 'wide-fpn'):
        with open(osp.join(work, f'epoch_2_{member}.py'), 'w') as f:
            f.write(config)
    table = ResultsTable.from_work_dirs([str(tmp_path / 'runs')], params=False)
    (row,) = table.rows
    assert row.summary.config == 'retina_tiny'
    assert row.summary.run.checkpoint == osp.join(work, 'epoch_2.pth')
    assert not [w for w in table.warnings if 'several dumped configs' in w]
    with open(osp.join(work, 'other.py'), 'w') as f:  # a second config: which one is unknown
        f.write(config)
    table = ResultsTable.from_work_dirs([str(tmp_path / 'runs')], params=False)
    assert any("several dumped configs (['other.py', 'retina_tiny.py']) and no vis_data/config.py "
               "to tell which is the run's; naming the run 'my_copy'" in w for w in table.warnings)
