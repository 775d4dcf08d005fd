"""Shared-backbone sweeps: several detectors trained at once on one frozen backbone.

One feature, one place: the detector (:class:`DetectorSweep`), its optimizer wrapper and
constructor, its metric (:class:`SweepMetric`), the checks of its members' configs and the
split of its checkpoint into one checkpoint per member. The rest of the package uses the names
exported here, never the modules behind them.
"""
from .checkpoint import member_checkpoint_path, split_sweep_checkpoint
from .config import (SweepConfigError, expand_sweep_config, is_sweep_config, load_sweep_members,
                     sweep_member_configs, sweep_member_sources)
from .detector_sweep import MEMBER_PREDS, DetectorSweep
from .metric import SweepMetric
from .optim_wrapper import MEMBER_KEY, SweepOptimWrapper
from .optim_wrapper_constructor import SweepOptimWrapperConstructor

__all__ = ['DetectorSweep', 'MEMBER_PREDS', 'MEMBER_KEY', 'SweepMetric', 'SweepOptimWrapper',
           'SweepOptimWrapperConstructor', 'SweepConfigError', 'expand_sweep_config',
           'is_sweep_config', 'load_sweep_members', 'sweep_member_configs',
           'sweep_member_sources', 'member_checkpoint_path', 'split_sweep_checkpoint']
