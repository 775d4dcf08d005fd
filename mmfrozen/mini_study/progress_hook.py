"""Hook that reports a run's training iterations to the mini-study's progress display."""
import time
from typing import Optional

from mmengine.hooks import Hook

from .progress import Progress


class ProgressHook(Hook):
    """Report every ``interval`` training iterations (and the last) to ``progress``.

    Args:
        progress: The study's progress display.
        label: Name of the run in the display.
        interval: Report every this many iterations.
    """
    priority = 'LOW'

    def __init__(self, progress: Progress, label: str, interval: int = 50) -> None:
        self.progress = progress
        self.label = label
        self.interval = max(1, interval)
        self._t0: Optional[float] = None
        self._i0 = 0

    def before_train(self, runner) -> None:
        self._t0, self._i0 = time.monotonic(), runner.iter

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        it, total = runner.iter + 1, runner.max_iters
        if it % self.interval and it != total:
            return
        done = it - self._i0
        sec = (time.monotonic() - self._t0) / max(done, 1)
        loss = outputs.get('loss') if isinstance(outputs, dict) else None
        if hasattr(loss, 'detach'):
            loss = loss.detach()
        self.progress.iteration(self.label, it, total, sec,
                                float(loss) if loss is not None else None)
