"""tools/setup_env.sh: up to date after set-up, and mmcv comes from the per-torch wheel cache."""
import glob
import importlib.util
import os.path as osp
import subprocess

import mmcv
import torch

from tests.utils import REPO


def test_setup_is_current_and_idempotent():
    """`make test` ran the set-up: a second run has nothing to do (exits 0 at once)."""
    proc = subprocess.run(['bash', 'tools/setup_env.sh', '--check'], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_mmcv_wheel_cached_for_installed_torch():
    """The second set-up on a machine reinstalls mmcv from this cache instead of building."""
    key_file = osp.join(REPO, '.venv', '.mmcv-key')
    wheel_dir = open(key_file).read().strip()
    torch_version = torch.__version__.split('+')[0]
    assert f'mmcv-{mmcv.__version__}-torch{torch_version}-' in osp.basename(wheel_dir)
    assert glob.glob(osp.join(wheel_dir, f'mmcv-{mmcv.__version__}-*.whl'))
    assert importlib.util.find_spec('mmcv._ext') is not None  # the ops were built
