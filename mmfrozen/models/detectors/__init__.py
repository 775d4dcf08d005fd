"""Detectors: several detectors trained at once on one frozen backbone."""
from .detector_sweep import MEMBER_PREDS, DetectorSweep
from .sweep_checkpoint import member_checkpoint_path, split_sweep_checkpoint
from .sweep_config import (SweepConfigError, expand_sweep_config, is_sweep_config,
                           load_sweep_members, sweep_member_configs, sweep_member_sources)

__all__ = ['DetectorSweep', 'MEMBER_PREDS', 'SweepConfigError', 'expand_sweep_config',
           'is_sweep_config', 'load_sweep_members', 'sweep_member_configs',
           'sweep_member_sources', 'member_checkpoint_path', 'split_sweep_checkpoint']
