"""The results table on work dirs of runs the tiny twins are not (written as mmengine writes
them): iteration-based, diverged, several Runners of one process, a best that is not the last."""
import csv
import os
import os.path as osp
import shutil

import pytest

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
    (contradiction,) = [w for w in table.warnings if 'contradict' in w]
    assert contradiction.startswith(f'{work}@{first}: the logs of session {first} contradict '
                                    f'the config found for it ({osp.join(work, "toy.py")}, '
                                    "train_cfg type='IterBasedTrainLoop'): epochs 1-150 logged")
    assert epoch_run.schedule == ''  # from neither the name nor a config it contradicts


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


def test_a_failed_parameter_count_is_said_once_per_config(tmp_path):
    """Two independent runs of one config whose model does not build here (ResNet depth 51):
    one warning, not one per session."""
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
