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
