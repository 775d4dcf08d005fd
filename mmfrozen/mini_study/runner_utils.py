"""Build and run one mmengine Runner of the mini-study, quietly, with progress reports."""
import contextlib
import logging
import time
from typing import Dict

from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from .progress import Progress
from .progress_hook import ProgressHook


class _Discard:
    """A text stream that drops everything (the Runner's console log in quiet mode)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def build_runner(cfg: Config, experiment_name: str, verbose: bool = False) -> Runner:
    """Build the config's Runner (``runner_type`` honoured); in quiet mode its console log is
    dropped while its log files are written in full."""
    cfg.experiment_name = experiment_name
    # mmengine keeps one Visualizer / MessageHub per name and process; configs name theirs
    # 'visualizer', so a second run in the same process would log into the first one's folder
    from mmengine.logging import MessageHub
    from mmengine.visualization import Visualizer
    for cls in (Visualizer, MessageHub):
        cls._instance_dict.clear()
    if cfg.get('visualizer') is not None:
        cfg.visualizer.name = experiment_name
    with contextlib.nullcontext() if verbose else contextlib.redirect_stdout(_Discard()):
        runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
    if not verbose:
        for handler in runner.logger.handlers:
            if type(handler) is logging.StreamHandler:  # not the FileHandler subclass
                handler.setLevel(logging.ERROR)
    return runner


def train_and_validate(cfg: Config, label: str, progress: Progress,
                       verbose: bool = False) -> Dict[str, float]:
    """Train ``cfg``'s model, validate at the end; returns the validation metrics.

    The metrics are those the Runner logged at the end of training (the loop validates at its
    last iteration), also written to the work dir's ``vis_data/scalars.json``.
    """
    stamp = time.strftime('%Y%m%d_%H%M%S')
    runner = build_runner(cfg, f'{label.replace(" ", "_")}_{stamp}', verbose)
    interval = max(1, int(cfg.train_cfg.max_iters) // 10)
    runner.register_hook(ProgressHook(progress, label, interval=interval))
    with contextlib.nullcontext() if verbose else contextlib.redirect_stdout(_Discard()):
        runner.train()
    metrics = {k[len('val/'):]: float(v.current())
               for k, v in runner.message_hub.log_scalars.items() if k.startswith('val/')}
    if not metrics:
        raise RuntimeError(f'mmfrozen mini-study: run {label!r} logged no validation metric; '
                           f'see the log under {cfg.work_dir}')
    return metrics


DEVICES = ('cpu', 'cuda')


def use_device(device: str) -> None:
    """Make this process train on ``device``: ``cpu`` hides CUDA from it (mmengine's Runner
    takes a visible GPU by itself), ``cuda`` requires one.

    Raises:
        ValueError: an unknown device.
        RuntimeError: ``cuda`` without a usable CUDA device; or ``cpu`` after CUDA was already
            initialised in this process (it can no longer be hidden).
    """
    import os

    import torch
    if device not in DEVICES:
        raise ValueError(f'device must be one of {DEVICES}, got {device!r}')
    if device == 'cuda':
        if not torch.cuda.is_available():
            raise RuntimeError('--device cuda: torch sees no CUDA device here (torch '
                               f'{torch.__version__}, built for CUDA {torch.version.cuda}); '
                               'run with --device cpu, or install a CUDA build of torch')
        return
    if torch.cuda.is_initialized():
        raise RuntimeError('--device cpu: CUDA is already initialised in this process; start '
                           'the study in a fresh process')
    os.environ['CUDA_VISIBLE_DEVICES'] = ''
