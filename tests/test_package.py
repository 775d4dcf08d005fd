"""The package switches on through custom_imports and checks the OpenMMLab versions."""
import subprocess
import sys

from mmengine.config import Config
from mmengine.registry import RUNNERS

from tests.utils import FROZEN, REPO


def test_custom_imports_registers_everything():
    cfg = Config.fromfile(FROZEN)  # imports mmfrozen through custom_imports
    assert cfg.custom_imports.imports == ['mmfrozen']
    from mmdet.registry import HOOKS
    assert HOOKS.get('FreezeBackboneHook').__module__.startswith('mmfrozen.')
    assert RUNNERS.get(cfg.runner_type).__name__ == 'FrozenRunner'


def test_unsupported_mmdet_version_is_refused():
    code = ("import mmdet; mmdet.__version__ = '3.0.0'\n"
            "try:\n    import mmfrozen\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, '-c', code], cwd=REPO, capture_output=True, text=True,
                         timeout=120).stdout
    assert 'supports mmdet>=3.1.0,<3.4.0, but 3.0.0 is installed' in out
