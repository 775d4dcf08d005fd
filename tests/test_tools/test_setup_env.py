"""tools/setup_env.sh: up to date after set-up, and mmcv comes from the per-torch wheel cache.

Run with either stack's venv (.venv/ for upstream OpenMMLab, .venv-onedl/ for STACK=onedl),
these check the set-up of the stack they run on."""
import glob
import importlib.util
import os
import os.path as osp
import subprocess
import sys

import mmcv
import torch

from mmfrozen.version import installed_distributions
from tests.utils import REPO

#: The venv of each STACK= of tools/setup_env.sh, and its mmcv distribution (the wheel's name).
STACKS = {'upstream': ('.venv', 'mmcv'), 'onedl': ('.venv-onedl', 'onedl-mmcv')}
#: The line installed here (only one: tests/test_version.py).
LINE = next(iter(installed_distributions()), 'upstream')
VENV, MMCV_DIST = STACKS[LINE]


def test_suite_runs_in_the_venv_of_its_stack():
    assert osp.realpath(sys.prefix) == osp.realpath(osp.join(REPO, VENV))


def test_setup_is_current_and_idempotent():
    """`make test` ran the set-up: a second run has nothing to do (exits 0 at once)."""
    proc = subprocess.run(['bash', 'tools/setup_env.sh', '--check'], cwd=REPO,
                          env=dict(os.environ, STACK=LINE), capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_unknown_stack_is_refused():
    proc = subprocess.run(['bash', 'tools/setup_env.sh', '--check'], cwd=REPO,
                          env=dict(os.environ, STACK='mmdet2'), capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert 'STACK=mmdet2: unknown stack; use STACK=upstream (the default) or STACK=onedl' \
        in proc.stderr


def test_mmcv_wheel_cached_for_installed_torch():
    """The second set-up on a machine reinstalls mmcv from this cache instead of building."""
    key_file = osp.join(REPO, VENV, '.mmcv-key')
    wheel_dir = open(key_file).read().strip()
    torch_version = torch.__version__.split('+')[0]
    assert osp.basename(wheel_dir).startswith(f'{MMCV_DIST}-{mmcv.__version__}-'
                                              f'torch{torch_version}-')
    wheel = MMCV_DIST.replace('-', '_')
    assert glob.glob(osp.join(wheel_dir, f'{wheel}-{mmcv.__version__}-*.whl'))
    assert importlib.util.find_spec('mmcv._ext') is not None  # the ops were built


def prepare_source(tmp_path, setup_py: str, python: str) -> str:
    """tools/mmcv_build.sh's mmcv_prepare_source on a one-file sdist; returns its setup.py."""
    src = tmp_path / 'mmcv-9.9.9'
    src.mkdir()
    (src / 'setup.py').write_text(setup_py)
    subprocess.run(['tar', '-czf', 'mmcv-9.9.9.tar.gz', 'mmcv-9.9.9'], cwd=tmp_path, check=True)
    dest = tmp_path / 'dest'
    dest.mkdir()
    proc = subprocess.run(
        ['bash', '-c', 'source tools/mmcv_build.sh && mmcv_prepare_source "$0" "$1" "$2"', python,
         str(tmp_path / 'mmcv-9.9.9.tar.gz'), str(dest)],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(dest / 'mmcv-9.9.9')
    return (dest / 'mmcv-9.9.9' / 'setup.py').read_text()


# As in mmcv 2.1.0's and onedl-mmcv 2.3.6's setup.py: C++17 for every torch > 1.12.
SETUP_PY = ("cxx = ['-std=c++14'] if old_torch else ['-std=c++17']\n"
            "nvcc += ['-std=c++17']\n")


def fake_python(tmp_path, std: str) -> str:
    """A stand-in for the venv's python whose torch headers need ``std``."""
    exe = tmp_path / f'python-{std}'
    exe.write_text(f'#!/bin/sh\ncat >/dev/null\necho {std}\n')
    exe.chmod(0o755)
    return str(exe)


def test_cxx_standard_patch_only_where_the_torch_headers_need_it(tmp_path):
    """Both stacks' mmcv sdists pass -std=c++17; the build moves them to C++20 only for a torch
    whose headers require it, and leaves the sdist as it is otherwise."""
    (tmp_path / 'a').mkdir()
    (tmp_path / 'b').mkdir()
    assert prepare_source(tmp_path / 'a', SETUP_PY, fake_python(tmp_path, 'c++17')) == SETUP_PY
    assert prepare_source(tmp_path / 'b', SETUP_PY, fake_python(tmp_path, 'c++20')) == \
        SETUP_PY.replace('c++17', 'c++20')


def test_cxx_standard_read_from_the_installed_torch():
    """torch 2.10 and later refuse C++17 in their headers (torch 2.14 in both stacks' venvs)."""
    proc = subprocess.run(['bash', '-c', 'source tools/mmcv_build.sh && mmcv_cxx_std "$0"',
                           sys.executable], cwd=REPO, capture_output=True, text=True, timeout=300)
    major, minor = (int(x) for x in torch.__version__.split('.')[:2])
    assert proc.stdout.strip() == ('c++20' if (major, minor) >= (2, 10) else 'c++17')
