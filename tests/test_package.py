"""The package: it switches on through custom_imports and works installed from its wheel,
outside the checkout (its version checks: tests/test_version.py)."""
import glob
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import pytest
import torch

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


# -- installed, not checked out ------------------------------------------------------------------
# The wheel is built from a copy of the repository (`pip wheel . --no-deps`) and installed
# (`pip install --no-deps --target`) into a temporary folder that is the only mmfrozen on
# PYTHONPATH; nothing of the checkout is on the path, and every command runs in another temporary
# folder. The OpenMMLab stack comes from the environment, as for a user who already has mmdet.
BIN = osp.dirname(sys.executable)
# What a source checkout holds besides the source: never part of a build.
_NOT_SOURCE = shutil.ignore_patterns('.git', '.venv', '.venv-onedl', 'work_dirs', 'build', 'dist',
                                     '*.egg-info', '__pycache__', '.pytest_cache', 'data')

# A user's config: our frozen Faster R-CNN, inherited through `mmfrozen::` (it inherits mmdet's
# through `mmdet::`), made tiny (ResNet-18 at 8 channels, 16-wide heads, 64-px images) and
# pointed at the tests' tiny COCO data and a local stand-in for the ImageNet weights.
USER_CONFIG = """
_base_ = 'mmfrozen::faster_rcnn/faster-rcnn_r50-frozen_fpn_1x_coco.py'

data_root = {root!r}
classes = {classes!r}
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(64, 64), keep_ratio=True),
    dict(type='PackDetInputs'),
]
model = dict(
    backbone=dict(depth=18, base_channels=8,
                  init_cfg=dict(type='Pretrained', checkpoint={pretrained!r}, prefix='backbone.')),
    neck=dict(in_channels=[8, 16, 32, 64], out_channels=16),
    rpn_head=dict(in_channels=16, feat_channels=16),
    roi_head=dict(bbox_roi_extractor=dict(out_channels=16),
                  bbox_head=dict(in_channels=16, fc_out_channels=32, num_classes=len(classes))))
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, ann_file='annotations/train.json',
                 data_prefix=dict(img='images/'), metainfo=dict(classes=classes),
                 pipeline=pipeline))
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=2, val_interval=100)
val_dataloader = val_cfg = val_evaluator = None
test_dataloader = test_cfg = test_evaluator = None
param_scheduler = [dict(type='ConstantLR', factor=1.0, begin=0, end=1)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(by_epoch=False, interval=2),
                     visualization=dict(draw=False))
log_processor = dict(by_epoch=False, window_size=1)
"""


PIP = [sys.executable, '-m', 'pip', '--disable-pip-version-check', '--no-input']


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    """The wheel built from a copy of the checkout."""
    root = tmp_path_factory.mktemp('wheel')
    src = root / 'src'
    shutil.copytree(REPO, src, symlinks=True, ignore=_NOT_SOURCE)
    subprocess.run(PIP + ['wheel', str(src), '--no-deps', '--no-build-isolation', '-w',
                          str(root / 'dist')], check=True, capture_output=True, timeout=600)
    (built, ) = glob.glob(str(root / 'dist' / 'mmfrozen-*.whl'))
    return built


@pytest.fixture(scope='module')
def installed(wheel, tmp_path_factory):
    """The folder the built wheel was installed into (``--target``)."""
    target = tmp_path_factory.mktemp('site')
    subprocess.run(PIP + ['install', '--no-deps', '--target', str(target), wheel], check=True,
                   capture_output=True, timeout=600)
    return target


@pytest.mark.slow
def test_wheel_installs_into_either_stack_leaving_it_as_it_is(wheel):
    """pip, resolving the wheel's requirements (plain and with the extra of the stack that runs
    here), would install no OpenMMLab distribution of either line, and `pip check` finds nothing
    wrong with mmfrozen or the stack (the set-up's two known conflicts are elsewhere: openmim
    without opendatalab, and upstream's setuptools < 70 below torch's >= 77)."""
    from mmfrozen.version import DISTRIBUTIONS, installed_distributions
    line = next(iter(installed_distributions()))
    openmmlab = {d for dists in DISTRIBUTIONS.values() for d in dists.values()}
    for spec in (wheel, f'{wheel}[{line}]'):
        proc = subprocess.run(PIP + ['install', '--dry-run', '--quiet', '--report', '-', spec],
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
        would = {i['metadata']['name'] for i in json.loads(proc.stdout)['install']}
        assert not would & openmmlab, (spec, would)
    proc = subprocess.run(PIP + ['check'], capture_output=True, text=True, timeout=300)
    ours = openmmlab | {'mmfrozen'}
    problems = [line for line in proc.stdout.splitlines()
                if ours & set(re.split(r'[\s,;<>=!~]+', line.lower()))]
    assert not problems, proc.stdout


def run(cmd, target, cwd, timeout=600):
    """Run ``cmd`` in ``cwd`` with the installed package (and nothing of the checkout)."""
    env = dict(os.environ, PYTHONPATH=str(target), OMP_NUM_THREADS='1',
               PATH=os.pathsep.join([str(target / 'bin'), BIN, os.environ.get('PATH', '')]))
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f'{cmd} failed in {cwd}:\n{out[-4000:]}'
    return out


@pytest.fixture
def user_dir(installed, tmp_path, tiny_coco):
    """An empty working folder with a user's config inheriting ``mmfrozen::`` configs."""
    from mmdet.models.backbones import ResNet
    pretrained = tmp_path / 'resnet18_8ch.pth'
    net = ResNet(depth=18, base_channels=8)
    net.init_weights()
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in net.state_dict().items()}},
               pretrained)
    work = tmp_path / 'user'
    work.mkdir()
    (work / 'my_frozen_detector.py').write_text(USER_CONFIG.format(
        root=tiny_coco.root + '/', classes=tuple(tiny_coco.classes), pretrained=str(pretrained)))
    return work


@pytest.mark.slow
def test_wheel_holds_the_configs_and_tools_in_the_mim_layout(installed):
    pkg = installed / 'mmfrozen'
    assert not (pkg / '.mim' / 'configs').is_symlink()  # files, not the checkout's links
    configs = {osp.relpath(p, osp.join(REPO, 'configs'))
               for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)}
    shipped = {osp.relpath(p, pkg / '.mim' / 'configs')
               for p in glob.glob(str(pkg / '.mim' / 'configs' / '**' / '*.py'), recursive=True)}
    assert shipped == configs
    for tool in ('train.py', 'test.py', 'dist_train.sh', 'slurm_train.sh'):
        assert (pkg / '.mim' / 'tools' / tool).is_file(), tool
    assert (pkg / '.mim' / 'model-index.yml').is_file()
    scripts = sorted(p.name for p in (installed / 'bin').iterdir())
    assert scripts == ['mmfrozen-count-params', 'mmfrozen-mini-study', 'mmfrozen-results-table',
                       'mmfrozen-train-cost']


@pytest.mark.slow
def test_user_config_inherits_ours_after_import_mmfrozen(installed, user_dir):
    code = ('import mmfrozen; from mmengine.config import Config; '
            'from mmfrozen.config import freeze_specs; '
            "cfg = Config.fromfile('my_frozen_detector.py'); "
            'print(mmfrozen.__file__); print(cfg.runner_type, cfg.model.type, '
            'cfg.model.backbone.depth, cfg.optim_wrapper.optimizer.type, '
            '[s.path for s in freeze_specs(cfg)])')
    out = run([sys.executable, '-c', code], installed, user_dir).strip().splitlines()
    assert out[-2].startswith(str(installed))  # the installed copy, not the checkout
    # ours (FrozenRunner, the hook), mmdet's (FasterRCNN, SGD) and the user's (depth 18)
    assert out[-1] == "FrozenRunner FasterRCNN 18 SGD ['backbone']"


@pytest.mark.slow
def test_mim_train_and_the_tools_run_outside_the_checkout(installed, user_dir):
    """`mim train mmfrozen` trains the user's config (mmfrozen:: bases) with our train.py;
    the console scripts count its parameters, measure its cost and tabulate the run."""
    out = run(['mim', 'train', 'mmfrozen', 'my_frozen_detector.py', '--work-dir', 'run'],
              installed, user_dir)
    assert osp.join(str(installed), 'mmfrozen', '.mim', 'tools', 'train.py') in out
    logs = ''.join(open(p).read() for p in glob.glob(str(user_dir / 'run' / '*' / '*.log')))
    assert "mmfrozen: froze backbone (ResNet)" in logs
    assert 'frozen parameters hold the pretrained checkpoint' in logs
    assert (user_dir / 'run' / 'iter_2.pth').is_file()

    table = run(['mmfrozen-count-params', 'my_frozen_detector.py'], installed, user_dir)
    assert '| my_frozen_detector | frozen |' in table

    run(['mmfrozen-train-cost', 'my_frozen_detector.py', '--no-limit', '--no-flops',
         '--iters', '1', '--warmup', '0', '--batch-size', '1', '--image-size', '64', '64',
         '--timing', 'isolated', '--threads', '1', '--out', 'cost.json'], installed, user_dir)
    (entry, ) = json.loads((user_dir / 'cost.json').read_text())['results']
    assert entry['config'] == 'my_frozen_detector' and entry['mode'] == 'frozen'

    run(['mmfrozen-results-table', 'run', '--out-dir', 'results', '--cost', 'cost.json',
         '--no-plots'], installed, user_dir)
    assert '| my_frozen_detector |' in (user_dir / 'results' / 'results.md').read_text()


@pytest.mark.slow
def test_mini_study_quick_writes_to_the_working_folder(installed, tmp_path):
    """Two variants of the quick study, from a folder outside the checkout: the configs come
    from the installed package, everything is written under ./work_dirs."""
    work = tmp_path / 'elsewhere'
    work.mkdir()
    run(['mmfrozen-mini-study', '--quick', '--variants', 'ft-fpn', 'frozen-fpn', '--seeds', '1'],
        installed, work, timeout=900)
    study = work / 'work_dirs' / 'mini_study_quick'  # each profile's own folder
    summary = json.loads((study / 'summary.json').read_text())
    assert set(summary['variants']) == {'ft-fpn', 'frozen-fpn'}
    # one results table per world (data seed 0 by default)
    assert summary['data_seeds'] == [0]
    assert (study / 'report' / 'world0' / 'results.md').is_file()
