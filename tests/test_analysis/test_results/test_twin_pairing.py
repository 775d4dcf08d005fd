"""Which run of the twin a run is compared with, on work dirs written as mmengine writes them
(:mod:`._written_work_dirs`): never a twin trained on other data."""
import pytest

from mmfrozen.analysis.results.table import ResultsTable

from ._written_work_dirs import config_text, training_logs, write_session

EPOCHS = 'EpochBasedTrainLoop'
FT, FROZEN = 'retinanet_r18-ft_fpn_1x_coco', 'retinanet_r18-frozen_fpn_1x_coco'


def _run(root, work, stem, config, ap):
    write_session(str(root / work), '20261201_100000', config, stem,
                  training_logs(EPOCHS, 1, per_epoch=4, val_interval=1, aps=[ap], interval=2))


def test_a_run_is_not_compared_with_a_twin_trained_on_other_data(tmp_path):
    """Two worlds (other training sets) in one table, the fine-tuned twin run in the first
    only: the frozen run of the second world gets no difference (said), the first its own."""
    seed0 = config_text(EPOCHS, 1, 1) + 'randomness = dict(seed=0)\n'
    other_world = seed0.replace('data/coco/', 'data/world1/')
    _run(tmp_path, 'ft_w0', FT, seed0, 0.40)
    _run(tmp_path, 'frozen_w0', FROZEN, seed0, 0.38)
    _run(tmp_path, 'frozen_w1', FROZEN, other_world, 0.10)
    table = ResultsTable.from_work_dirs([str(tmp_path)], params=False)
    rows = {r.summary.run.work_dir.rstrip('/').rsplit('/', 1)[-1]: r for r in table.rows}
    assert rows['frozen_w0'].twin.deltas['box_ap'] == pytest.approx(-2.0)
    assert rows['frozen_w0'].twin.paired_seed == 0
    assert rows['frozen_w1'].twin is None
    assert any('frozen_w1' in w and 'other training data' in w for w in table.warnings)


def test_the_plotted_pairs_are_the_compared_ones(tmp_path):
    """Two seeds of each twin: each frozen run is drawn beside the fine-tuned run of its seed
    (the one its difference is taken against), not beside the twin's last run."""
    for seed in (0, 1):
        config = config_text(EPOCHS, 1, 1) + f'randomness = dict(seed={seed})\n'
        _run(tmp_path, f'ft_s{seed}', FT, config, 0.40 + seed / 10)
        _run(tmp_path, f'frozen_s{seed}', FROZEN, config, 0.38 + seed / 10)
    table = ResultsTable.from_work_dirs([str(tmp_path)], params=False)
    pairs = table.twin_pairs()
    assert len(pairs) == 2
    for row, twin in pairs:
        assert row.twin.paired_seed == row.summary.seed
        assert twin.summary.seed == row.summary.seed


def test_two_worlds_in_one_table_pair_within_each_world(tmp_path):
    """Both twins in two worlds (two training sets): each frozen run is compared with the
    fine-tuned run of its world, not refused as 'not repeats' for the twin's other world."""
    seed0 = config_text(EPOCHS, 1, 1) + 'randomness = dict(seed=0)\n'
    for world, shift in ((0, 0.0), (1, 0.2)):
        config = seed0.replace('data/coco/', f'data/world{world}/')
        _run(tmp_path, f'ft_w{world}', FT, config, 0.40 + shift)
        _run(tmp_path, f'frozen_w{world}', FROZEN, config, 0.38 + shift)
    table = ResultsTable.from_work_dirs([str(tmp_path)], params=False)
    frozen = [r for r in table.rows if r.summary.config == FROZEN]
    assert len(frozen) == 2
    for row in frozen:
        assert row.twin is not None and row.twin.deltas['box_ap'] == pytest.approx(-2.0)
    assert not any('not repeats' in w for w in table.warnings)
    for row, twin in table.twin_pairs():
        assert twin.summary.train_ann_file == row.summary.train_ann_file


ITERS = 'IterBasedTrainLoop'


def _table(tmp_path):
    table = ResultsTable.from_work_dirs([str(tmp_path)], params=False)
    return table, {r.summary.run.work_dir.rstrip('/').rsplit('/', 1)[-1]: r for r in table.rows}


def test_a_run_is_not_compared_with_a_twin_trained_for_another_budget(tmp_path):
    """The fine-tuned twin cut to 1 epoch with --cfg-options, the frozen run trained 2 (same
    name, same seed, same data): no difference (it would compare unequal budgets), said, and
    not drawn as a pair; the frozen run of the twin's budget gets its own."""
    seed0 = 'randomness = dict(seed=0)\n'
    _run(tmp_path, 'ft_1e', FT, config_text(EPOCHS, 1, 1) + seed0, 0.40)
    write_session(str(tmp_path / 'frozen_2e'), '20261201_100000',
                  config_text(EPOCHS, 2, 1) + seed0, FROZEN,
                  training_logs(EPOCHS, 2, per_epoch=4, val_interval=1, aps=[0.3, 0.45],
                                interval=2))
    table, rows = _table(tmp_path)
    assert rows['frozen_2e'].twin is None
    assert any('frozen_2e' in w and 'another budget (1 epochs of 2 images per GPU; this run '
               '2 epochs of 2 images per GPU)' in w for w in table.warnings), table.warnings
    assert table.twin_pairs() == []

    _run(tmp_path, 'frozen_1e', FROZEN, config_text(EPOCHS, 1, 1) + seed0, 0.38)
    table, rows = _table(tmp_path)
    assert rows['frozen_1e'].twin.deltas['box_ap'] == pytest.approx(-2.0)
    assert [(r.summary.run.label, t.summary.run.label) for r, t in table.twin_pairs()] == [
        (rows['frozen_1e'].summary.run.label, rows['ft_1e'].summary.run.label)]


def test_a_twin_of_another_batch_is_another_budget(tmp_path):
    """Same length, the fine-tuned twin at 4 images per GPU: no difference."""
    frozen = 'retinanet_r18-frozen_fpn_1xb2-8it_coco'
    ft = 'retinanet_r18-ft_fpn_1xb2-8it_coco'
    logs = training_logs(ITERS, 8, per_epoch=4, val_interval=8, aps=[0.3], interval=2)
    write_session(str(tmp_path / 'frozen'), '20261201_100000', config_text(ITERS, 8, 8),
                  frozen, logs)
    write_session(str(tmp_path / 'ft'), '20261201_100000',
                  config_text(ITERS, 8, 8).replace('batch_size=2', 'batch_size=4'), ft, logs)
    table, rows = _table(tmp_path)
    assert rows['frozen'].twin is None
    assert any('4 images per GPU' in w and 'another budget' in w for w in table.warnings)


@pytest.mark.parametrize('stem,loop,length,batch,repeat,shown,said', [
    ('retinanet_r18-ft_fpn_1x_coco', EPOCHS, 12, 2, None, '1x', None),
    ('retinanet_r18-ft_fpn_1x_coco', EPOCHS, 1, 2, None, '1e (name: 1x)',
     '1 epochs where the name says 12'),
    ('retinanet_r18-ft_fpn_ms-3x_coco', EPOCHS, 12, 2, 3, 'ms-3x', None),
    ('retinanet_r18-ft_fpn_ms-3x_coco', EPOCHS, 12, 2, None, 'ms-12e (name: ms-3x)',
     '12 epochs where the name says 36'),
    ('retinanet_r18-ft_fpn_1xb2-8it_coco', ITERS, 8, 2, None, '1xb2-8it', None),
    ('retinanet_r18-ft_fpn_1xb2-8it_coco', ITERS, 16, 4, None,
     '1xb4-16it (name: 1xb2-8it)', '16 iterations where the name says 8; 4 images per GPU '
     'where the name says 2'),
    ('retinanet_r18-ft_fpn_lsj-72e_coco', ITERS, 8, 2, None, 'lsj-8it (name: lsj-72e)',
     '8 iterations (2 passes over the data) where the name says 72 epochs'),
])
def test_the_schedule_column_shows_what_ran(tmp_path, stem, loop, length, batch, repeat, shown,
                                            said):
    """The name's schedule where the dumped config trains it (mmdet's 3x: 12 epochs of a
    dataset repeated 3 times), else what ran beside it, with a note saying why."""
    config = config_text(loop, length, length).replace('batch_size=2', f'batch_size={batch}')
    if repeat:
        config = config.replace(
            "dataset=dict(ann_file='annotations/instances_train2017.json', data_root="
            "'data/coco/',\n                 type='CocoDataset'),",
            "dataset=dict(dataset=dict(ann_file='annotations/instances_train2017.json', "
            f"data_root='data/coco/', type='CocoDataset'), times={repeat}, "
            "type='RepeatDataset'),")
        assert 'RepeatDataset' in config
    per_epoch = 1 if loop == EPOCHS else 4
    write_session(str(tmp_path / 'run'), '20261201_100000', config, stem,
                  training_logs(loop, length, per_epoch=per_epoch, val_interval=length,
                                aps=[0.3], interval=1))
    table, rows = _table(tmp_path)
    assert rows['run'].summary.schedule == shown
    notes = [w for w in table.warnings if 'the name says schedule' in w]
    if said is None:
        assert notes == []
    else:
        (note,) = notes
        assert said in note and f"shows what ran ({shown.split(' (')[0]!r})" in note
    assert f'| {shown} |' in table.to_markdown()
