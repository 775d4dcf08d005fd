"""Shared-backbone sweeps: several detectors trained at once on one frozen backbone.

One feature, one place: the detector (:class:`DetectorSweep`), its optimizer wrapper and
constructor, its metric (:class:`SweepMetric`), the checks of its members' configs and of its own
(:func:`check_sweep_config`, which ``FrozenRunner`` runs before building a run) and the split of
its checkpoint into one checkpoint per member. The rest of the package uses the names
exported here, never the modules behind them.
"""
from ..engine.runner.checks import register_config_check
from .checkpoint import SWEEP_MEMBER_CFGS, member_checkpoint_path, split_sweep_checkpoint
from .checks import check_sweep_config
from .config import (SweepConfigError, expand_sweep_config, is_inline, is_sweep_config,
                     load_sweep_members, sweep_member_configs, sweep_member_sources)
from .detector_sweep import MEMBER_PREDS, DetectorSweep
from .metric import SweepMetric
from .optim_wrapper import MEMBER_KEY, SweepOptimWrapper
from .optim_wrapper_constructor import SweepOptimWrapperConstructor, check_sweep_optim_wrapper

# FrozenRunner runs it on the whole config before it builds anything (the model sees only model=)
register_config_check(check_sweep_config)

__all__ = ['DetectorSweep', 'MEMBER_PREDS', 'MEMBER_KEY', 'SweepMetric', 'SweepOptimWrapper',
           'SweepOptimWrapperConstructor', 'SweepConfigError', 'expand_sweep_config',
           'is_sweep_config', 'load_sweep_members', 'sweep_member_configs',
           'sweep_member_sources', 'member_checkpoint_path', 'split_sweep_checkpoint',
           'check_sweep_config', 'check_sweep_optim_wrapper', 'is_inline', 'SWEEP_MEMBER_CFGS']
