"""Where the results table puts each validation: at the iteration (epoch) it ran, read from the
dumped config's ``val_interval``/``val_begin``, ``log_metric_by_epoch`` and the loop, not at the
training iteration logged just before it. Real Runners on the toy model of
:mod:`.test_work_dirs` (8 samples, batch 2: 4 iterations per epoch)."""
import time

import pytest
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.registry import HOOKS, METRICS
from mmengine.runner import Runner

from mmfrozen.analysis.results.table import ResultsTable

from ._tiny_runs import _reset_mmengine_globals
from .test_work_dirs import toy_config

#: The values the next evaluations of ``ResultsTableQueuedAP`` log, in order.
QUEUED_APS = []


@METRICS.register_module()
class ResultsTableQueuedAP(BaseMetric):
    """Logs ``coco/bbox_mAP`` from :data:`QUEUED_APS`: the config stays the same across the
    sessions of a resumed run."""
    default_prefix = 'coco'

    def process(self, data_batch, data_samples):
        self.results.append(len(data_samples))

    def compute_metrics(self, results):
        return dict(bbox_mAP=QUEUED_APS.pop(0))


#: The iteration after which ``ResultsTableKillAfter`` stops training; None: never.
KILL_AFTER = [None]


@HOOKS.register_module()
class ResultsTableKillAfter(Hook):
    """Stops training after iteration :data:`KILL_AFTER`, as a killed run stops."""

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == KILL_AFTER[0]:
            raise KeyboardInterrupt('killed')


def train(tmp_path, train_cfg, aps, logger=None, log_processor=None, **overrides):
    _reset_mmengine_globals()
    work, path = str(tmp_path / 'work_dirs' / 'toy'), str(tmp_path / 'toy.py')
    cfg = toy_config(path, work, train_cfg, aps)
    cfg.default_hooks.logger.update(logger or {})
    if log_processor is not None:
        cfg.log_processor = log_processor
    cfg.default_hooks.update(overrides.pop('default_hooks', {}))
    for key, value in overrides.items():
        cfg[key] = value
    Runner.from_cfg(cfg).train()
    (row,) = ResultsTable.from_work_dirs([work], params=False).rows
    return row.summary


@pytest.mark.parametrize('by_epoch', [True, False], ids=['step-0', 'step-iteration'])
def test_iteration_loop_validation_between_log_lines(tmp_path, by_epoch):
    """val_interval=3, logger interval 4: validations at 3, 6, 9, 12 (not at the logged 4, 8,
    12), whether the scalar log's ``step`` is 0 (log_metric_by_epoch) or the iteration."""
    summary = train(tmp_path, dict(type='IterBasedTrainLoop', max_iters=12, val_interval=3),
                    [0.1, 0.6, 0.2, 0.3], logger=dict(interval=4, log_metric_by_epoch=by_epoch),
                    log_processor=dict(by_epoch=by_epoch))
    assert [(e['iter'], e['epoch']) for e in summary.run.evals] == [
        (3, None), (6, None), (9, None), (12, None)]
    assert summary.best_at == 'i6'


@pytest.mark.parametrize('logged', ['metrics-by-iteration', 'training-by-iteration'])
def test_epoch_loop_logged_by_iteration(tmp_path, logged):
    """3 epochs of 4 iterations, best at epoch 2; ``log_metric_by_epoch=False`` (the validation
    ``step`` is the iteration) or ``log_processor.by_epoch=False`` (no epoch on training lines,
    ``Iter(train) [i/12]`` in the text log)."""
    if logged == 'metrics-by-iteration':
        options = dict(logger=dict(interval=2, log_metric_by_epoch=False))
    else:
        options = dict(logger=dict(interval=3), log_processor=dict(by_epoch=False))
    summary = train(tmp_path, dict(type='EpochBasedTrainLoop', max_epochs=3), [0.1, 0.6, 0.2],
                    **options)
    assert [(e['iter'], e['epoch']) for e in summary.run.evals] == [(4, 1), (8, 2), (12, 3)]
    assert summary.run.epochs == 3 and summary.best_at == 'e2'


def test_validation_of_discarded_iterations_is_dropped_on_resume(tmp_path):
    """Validation every 3 iterations, a checkpoint every 4, killed after 10, resumed from
    iter_8: the killed session's validation at 9 (0.9) scored weights the resume threw away."""
    train_cfg = dict(type='IterBasedTrainLoop', max_iters=12, val_interval=3)
    options = dict(logger=dict(interval=2), val_evaluator=dict(type='ResultsTableQueuedAP'),
                   custom_hooks=[dict(type='ResultsTableKillAfter')],
                   default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=4,
                                                     by_epoch=False)))
    QUEUED_APS[:], KILL_AFTER[0] = [0.1, 0.2, 0.9], 10
    with pytest.raises(KeyboardInterrupt):
        train(tmp_path, train_cfg, [], **options)
    time.sleep(1.1)  # the sessions' timestamps are in seconds
    QUEUED_APS[:], KILL_AFTER[0] = [0.3, 0.4], None
    summary = train(tmp_path, train_cfg, [], resume=True, **options)
    assert [(e['iter'], e['metrics']['coco/bbox_mAP']) for e in summary.run.evals] == [
        (3, 0.1), (6, 0.2), (9, 0.3), (12, 0.4)]
    assert summary.best_box_ap == pytest.approx(40.0) and summary.best_at == 'i12'


def test_resume_with_a_quiet_text_log_is_one_run(tmp_path):
    """log_level='WARNING': the text log has neither training lines nor the INFO line
    ``resumed epoch: E, iter: I``; killed after iteration 10 of 3 epochs of 4, resumed: the
    scalars continue the iterations, so the sessions make one run."""
    train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=3)
    options = dict(logger=dict(interval=2), val_evaluator=dict(type='ResultsTableQueuedAP'),
                   custom_hooks=[dict(type='ResultsTableKillAfter')], log_level='WARNING')
    QUEUED_APS[:], KILL_AFTER[0] = [0.1, 0.5], 10
    with pytest.raises(KeyboardInterrupt):
        train(tmp_path, train_cfg, [], **options)
    time.sleep(1.1)  # the sessions' timestamps are in seconds
    QUEUED_APS[:], KILL_AFTER[0] = [0.2], None
    summary = train(tmp_path, train_cfg, [], resume=True, **options)
    assert len(summary.run.sessions) == 2
    assert [r['iter'] for r in summary.run.train] == [2, 4, 6, 8, 10, 12]
    assert [e['epoch'] for e in summary.run.evals] == [1, 2, 3] and summary.best_at == 'e2'
