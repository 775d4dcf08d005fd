"""Progress display of the mini-study: stages, runs, iterations and the time left."""
import sys
import time
from typing import Optional, TextIO


def fmt_seconds(seconds: Optional[float]) -> str:
    """``'1:02:03'`` / ``'2:03'`` for a duration in seconds, ``'?'`` when unknown."""
    if seconds is None:
        return '?'
    seconds = int(round(max(seconds, 0)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f'{h}:{m:02d}:{s:02d}' if h else f'{m}:{s:02d}'


class Progress:
    """Prints one line per stage and run, and iteration progress with an ETA.

    Iteration lines give the run's ETA; the pipeline adds the study's after each detector run.

    Args:
        num_stages: Number of stages of the study.
        stream: Where to print (default: stdout).
        start: Wall-clock time (``time.time()``) the elapsed time counts from (default: now);
            a worker process passes the study's, so that its lines show the study's clock.
    """

    def __init__(self, num_stages: int, stream: Optional[TextIO] = None,
                 start: Optional[float] = None) -> None:
        self.num_stages = num_stages
        self.stream = stream or sys.stdout
        self.start = time.time() if start is None else start
        self.stage_no = 0

    def print(self, text: str) -> None:
        print(f'[mini-study {fmt_seconds(time.time() - self.start)}] {text}',
              file=self.stream, flush=True)

    def stage(self, name: str, detail: str = '') -> None:
        """Announce the next stage."""
        self.stage_no += 1
        self.print(f'== stage {self.stage_no}/{self.num_stages}: {name}'
                   + (f' -- {detail}' if detail else ''))

    def iteration(self, label: str, it: int, total: int, sec_per_iter: float,
                  loss: Optional[float]) -> None:
        """Report training iteration ``it`` of ``total`` of the run called ``label``."""
        loss_text = f'loss {loss:.3f}  ' if loss is not None else ''
        eta = fmt_seconds((total - it) * sec_per_iter)
        self.print(f'   {label}: iter {it}/{total} ({100 * it // total}%)  {loss_text}'
                   f'{sec_per_iter:.2f} s/it  run eta {eta}')
