"""The Schedule column and the training budget of twin differences on what users' work dirs
hold (written as mmengine writes them, :mod:`._written_work_dirs`): model-zoo names, configs
that do not load here, exponents in names, epochs trained as iterations, runs stopped early,
twins without a config."""
from mmfrozen.analysis.results.table import ResultsTable

from ._written_work_dirs import config_text, training_logs, write_session

EPOCHS, ITERS = 'EpochBasedTrainLoop', 'IterBasedTrainLoop'
TS = '20261201_100000'
PLAIN_DATASET = ("dataset=dict(ann_file='annotations/instances_train2017.json', data_root="
                 "'data/coco/',\n                 type='CocoDataset'),")


def _repeat(config: str, times: int) -> str:
    out = config.replace(PLAIN_DATASET, (
        "dataset=dict(dataset=dict(ann_file='annotations/instances_train2017.json', "
        f"data_root='data/coco/', type='CocoDataset'), times={times}, type='RepeatDataset'),"))
    assert 'RepeatDataset' in out
    return out


def _table(root):
    table = ResultsTable.from_work_dirs([str(root)], params=False)
    return table, {r.summary.run.work_dir.rstrip('/').rsplit('/', 1)[-1]: r for r in table.rows}


def _epochs_run(root, work, stem, config, epochs, aps=None):
    aps = aps or [0.3] * epochs
    write_session(str(root / work), TS, config, stem,
                  training_logs(EPOCHS, epochs, per_epoch=2, val_interval=1, aps=aps,
                                interval=2))


def test_a_zoo_name_off_the_convention_shows_passes_over_the_data(tmp_path):
    """mmdet's own model-zoo name (no mode token, so the name is not parsed):
    mask-rcnn_r50_fpn_ms-poly-3x_coco runs 12 loop epochs of a RepeatDataset(times=3), i.e.
    36 passes over the data: the Schedule column, read from the loop, says 36e, not 12e."""
    stem = 'mask-rcnn_r50_fpn_ms-poly-3x_coco'
    _epochs_run(tmp_path, 'run', stem, _repeat(config_text(EPOCHS, 12, 1), 3), 12)
    table, rows = _table(tmp_path)
    assert rows['run'].summary.schedule == '36e'


def test_a_config_that_does_not_load_here_still_shows_what_ran(tmp_path):
    """The dumped config cannot be loaded on the analysis machine (custom_imports of a
    package not installed here, e.g. a backbone package of the training machine); read as
    source it trains max_epochs=1 (--cfg-options): the cell says so, and a warning."""
    stem = 'retinanet_r18-ft_fpn_1x_coco'
    config = config_text(EPOCHS, 1, 1) + (
        "custom_imports = dict(allow_failed_imports=False, imports=['not_installed_pkg.models'])\n")
    _epochs_run(tmp_path, 'run', stem, config, 1)
    table, rows = _table(tmp_path)
    assert rows['run'].summary.run.loop.max_epochs == 1
    assert rows['run'].summary.schedule == '1e (name: 1x)', table.warnings
    assert any('1 epochs where the name says 12' in w for w in table.warnings)


def test_an_exponent_in_the_name_is_no_length(tmp_path):
    """An exponent in the schedule part (LVIS's repeat-factor threshold rfs-1e-3) is not
    '1 epoch' (which would clash with '1x' and hide the length): a run cut to 2 epochs
    (--cfg-options) shows it, the exponent kept."""
    stem = 'mask-rcnn_r18-ft_fpn_rfs-1e-3_ms-1x_lvis-v1'
    _epochs_run(tmp_path, 'run', stem, config_text(EPOCHS, 2, 1), 2)
    table, rows = _table(tmp_path)
    assert rows['run'].summary.schedule == 'rfs-1e-3_ms-2e (name: rfs-1e-3_ms-1x)', \
        table.warnings


def test_iteration_based_run_of_the_named_epochs_gets_no_false_warning(tmp_path):
    """mmdet's Mask2Former configs (mask2former_r50_8xb2-lsj-50e_coco) name 50 epochs and
    train them as an IterBasedTrainLoop (368750 iterations = 50 passes). Here: '2e' in the
    name, max_iters=8 over a dataloader of 4 batches (the text log says [i/4]): exactly 2
    passes over the data: no warning, the name's schedule in the cell."""
    stem = 'mask2former_r18-ft_pixel-decoder_8xb2-lsj-2e_coco'
    write_session(str(tmp_path / 'run'), TS, config_text(ITERS, 8, 8), stem,
                  training_logs(ITERS, 8, per_epoch=4, val_interval=8, aps=[0.3], interval=1))
    table, rows = _table(tmp_path)
    assert [w for w in table.warnings if 'the name says schedule' in w] == []
    assert rows['run'].summary.schedule == '8xb2-lsj-2e'


def test_a_run_stopped_early_is_not_compared_with_a_finished_twin(tmp_path):
    """The frozen run was killed (or is still training) after 1 of its config's 4 epochs;
    the fine-tuned twin trained all 4. Both configs say 4 epochs (the same budget), but a
    1-epoch result is no twin of a 4-epoch one: no difference, both said."""
    frozen, ft = 'retinanet_r18-frozen_fpn_4e_coco', 'retinanet_r18-ft_fpn_4e_coco'
    config = config_text(EPOCHS, 4, 1) + 'randomness = dict(seed=0)\n'
    _epochs_run(tmp_path / 'done', 'ft', ft, config, 4, [0.1, 0.2, 0.3, 0.4])
    _epochs_run(tmp_path / 'done', 'frozen', frozen, config, 4, [0.1, 0.2, 0.3, 0.4])
    finished, _ = _table(tmp_path / 'done')
    _epochs_run(tmp_path / 'killed', 'ft', ft, config, 4, [0.1, 0.2, 0.3, 0.4])
    write_session(str(tmp_path / 'killed' / 'frozen'), TS, config, frozen,
                  training_logs(EPOCHS, 1, per_epoch=2, val_interval=1, aps=[0.1],
                                interval=2))
    table, rows = _table(tmp_path / 'killed')
    assert rows['frozen'].summary.run.epochs == 1
    said = {w.replace(str(tmp_path / 'done'), '') for w in finished.warnings}
    new = [w for w in table.warnings
           if w.replace(str(tmp_path / 'killed'), '') not in said and 'frozen' in w]
    assert rows['frozen'].twin is None and table.twin_pairs() == []
    assert any('last evaluated at epoch 1 of the 4 its config trains' in w for w in new), new
    assert any("last evaluated at epoch 1, the runs of its twin" in w and 'epoch 4' in w
               for w in new), new
    assert next(r for r in finished.rows if r.summary.mode == 'frozen' or
                r.summary.name.mode == 'frozen').twin is not None  # finished: compared


def test_twin_with_runs_of_two_budgets_is_compared_at_the_runs_own(tmp_path):
    """Handled: the fine-tuned twin has a 1-epoch and a 2-epoch run (same seed, the second
    via --cfg-options); the 1-epoch frozen run is compared with (and drawn beside) the 1-epoch
    twin run only, not refused as 'not repeats' and not averaged with the 2-epoch run."""
    frozen, ft = 'retinanet_r18-frozen_fpn_1e_coco', 'retinanet_r18-ft_fpn_1e_coco'
    seed0 = 'randomness = dict(seed=0)\n'
    _epochs_run(tmp_path, 'ft_1e', ft, config_text(EPOCHS, 1, 1) + seed0, 1, [0.40])
    _epochs_run(tmp_path, 'ft_2e', ft, config_text(EPOCHS, 2, 1) + seed0, 2, [0.40, 0.60])
    _epochs_run(tmp_path, 'frozen', frozen, config_text(EPOCHS, 1, 1) + seed0, 1, [0.38])
    table, rows = _table(tmp_path)
    assert rows['frozen'].twin is not None
    assert abs(rows['frozen'].twin.deltas['box_ap'] - -2.0) < 1e-6
    assert [t.summary.run.label for _, t in table.twin_pairs()] == [
        rows['ft_1e'].summary.run.label]


def test_a_twin_without_config_is_not_compared(tmp_path):
    """The fine-tuned twin's work dir (named after its config, mmengine's default) lost its
    dumped configs (logs copied without them; they show 2 epochs): its budget is unknown, so
    the 1-epoch frozen run gets no difference, and the table says why."""
    import glob
    import os
    frozen, ft = 'retinanet_r18-frozen_fpn_1e_coco', 'retinanet_r18-ft_fpn_1e_coco'
    _epochs_run(tmp_path, ft, ft, config_text(EPOCHS, 2, 1), 2, [0.40, 0.60])
    for path in glob.glob(str(tmp_path / ft / '**' / '*.py'), recursive=True):
        os.remove(path)
    _epochs_run(tmp_path, 'frozen', frozen, config_text(EPOCHS, 1, 1), 1, [0.38])
    table, rows = _table(tmp_path)
    assert rows[ft].summary.run.epochs == 2
    assert rows['frozen'].twin is None
    assert any('frozen' in w and 'training budget of' in w and 'is unknown' in w
               for w in table.warnings), table.warnings


def test_epochs_trained_as_iterations_without_the_epoch_length_are_not_called_wrong(tmp_path):
    """The same Mask2Former-style name, logged with log_processor.by_epoch=False (as mmdet's
    iteration configs log): the logs do not say the iterations of an epoch, so the length
    cannot be checked: said so, the name's schedule kept, no accusation of --cfg-options."""
    stem = 'mask2former_r18-ft_pixel-decoder_8xb2-lsj-2e_coco'
    write_session(str(tmp_path / 'run'), TS, config_text(ITERS, 8, 8, log_by_epoch=False), stem,
                  training_logs(ITERS, 8, per_epoch=4, val_interval=8, aps=[0.3], interval=1,
                                log_by_epoch=False))
    table, rows = _table(tmp_path)
    assert rows['run'].summary.schedule == '8xb2-lsj-2e'
    assert not [w for w in table.warnings if 'the name says schedule' in w]
    assert any('runs 8 iterations, and the logs do not say the iterations of one epoch' in w
               for w in table.warnings), table.warnings
