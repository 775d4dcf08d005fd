"""The package switches on through custom_imports and checks the OpenMMLab versions."""
import subprocess
import sys

from tests.utils import FROZEN, REPO


def test_custom_imports_registers_everything():
    """In a fresh interpreter, only the config's custom_imports imports mmfrozen."""
    code = f"""
import sys
from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmdet.registry import HOOKS, METRICS, MODELS
assert 'mmfrozen' not in sys.modules and HOOKS.get('FreezeBackboneHook') is None
cfg = Config.fromfile({FROZEN!r})
assert cfg.custom_imports.imports == ['mmfrozen'] and 'mmfrozen' in sys.modules
assert RUNNERS.get(cfg.runner_type).__module__.startswith('mmfrozen.')
assert HOOKS.get('FreezeBackboneHook').__module__.startswith('mmfrozen.')
assert METRICS.get('CocoFrequencyMetric').__module__.startswith('mmfrozen.')
assert MODELS.get('AdaptedResNet').__module__.startswith('mmfrozen.')
print('registered')
"""
    proc = subprocess.run([sys.executable, '-c', code], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and 'registered' in proc.stdout, proc.stderr[-2000:]


def test_unsupported_mmdet_version_is_refused():
    code = ("import mmdet; mmdet.__version__ = '3.0.0'\n"
            "try:\n    import mmfrozen\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, '-c', code], cwd=REPO, capture_output=True, text=True,
                         timeout=120).stdout
    assert 'supports mmdet>=3.1.0,<3.4.0, but 3.0.0 is installed' in out
