"""What tools/train.py and tools/test.py share: arguments, config loading, runner building."""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from .dist import setup_cpu_distributed
from .runner import FrozenRunner
from .runner.checks import run_config_checks


def add_common_args(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Arguments every mmdet-style tool takes after its positional ones."""
    parser.add_argument('--work-dir', help='the dir to save logs, models and metrics')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. train_cfg.max_epochs=2')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser


def load_config(args: argparse.Namespace) -> Config:
    """Load ``args.config`` with ``--cfg-options``, work dir and launcher applied.

    Raises:
        SystemExit: the config file does not exist.
    """
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if not osp.isfile(args.config):
        raise SystemExit(f'config not found: {args.config}')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg


def build_runner(cfg: Config) -> Runner:
    """Build the config's runner (``runner_type`` honoured), multi-process on CPU if needed.

    The config checks that features register (:func:`~mmfrozen.engine.runner.checks.
    run_config_checks`) run first: ``FrozenRunner`` runs them itself, any other runner here.
    """
    runner_cls = cfg.get('runner_type', Runner)
    runner_cls = runner_cls if isinstance(runner_cls, type) else RUNNERS.get(runner_cls)
    if not (isinstance(runner_cls, type) and issubclass(runner_cls, FrozenRunner)):
        run_config_checks(cfg)
    if cfg.get('launcher', 'none') != 'none':
        setup_cpu_distributed(cfg)
    return Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
