"""The package's OpenMMLab layout and its `mmfrozen` config scope, in the checkout."""
import glob
import os.path as osp

import pytest

import mmfrozen  # noqa: F401
from mmfrozen.mim import CONFIG_ROOT, config_path
from tests.utils import CONFIGS, FROZEN


def test_the_package_config_root_holds_the_configs():
    ours = sorted(osp.relpath(p, CONFIGS)
                  for p in glob.glob(osp.join(CONFIGS, '**', '*.py'), recursive=True))
    assert ours and ours == sorted(
        osp.relpath(p, CONFIG_ROOT)
        for p in glob.glob(osp.join(CONFIG_ROOT, '**', '*.py'), recursive=True))
    rel = osp.relpath(FROZEN, CONFIGS)
    assert osp.samefile(config_path(rel), FROZEN)
    assert config_path(f'mmfrozen::{rel}') == config_path(rel)
    with pytest.raises(FileNotFoundError, match="no config 'faster_rcnn/nothing.py'"):
        config_path('faster_rcnn/nothing.py')


def test_import_registers_the_config_scope():
    from mmengine.config.utils import MODULE2PACKAGE
    assert MODULE2PACKAGE['mmfrozen'] == 'mmfrozen'


def test_dicts_of_the_mmfrozen_scope_build_from_mmdet_registries():
    """mmengine stamps `_scope_='mmfrozen'` on the dicts of a config inherited through
    `mmfrozen::`; the Runner builds hooks with mmengine's root registry."""
    from mmengine.registry import HOOKS, MODELS
    hook = HOOKS.build(dict(type='FreezeBackboneHook', _scope_='mmfrozen'))
    assert type(hook).__name__ == 'FreezeBackboneHook'
    # mmdet's classes too, and prefixed types of other scopes
    neck = MODELS.build(dict(type='FPN', _scope_='mmfrozen', in_channels=[8, 16],
                             out_channels=8, num_outs=2))
    assert type(neck).__module__.startswith('mmdet.')
    assert MODELS.build(dict(type='mmdet.FPN', _scope_='mmfrozen', in_channels=[8],
                             out_channels=8, num_outs=1))
