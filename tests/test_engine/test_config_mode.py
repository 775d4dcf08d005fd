"""The mode of a run is read from its config (freeze hooks, adapters, pretrained weights)."""
from mmdet.registry import HOOKS
from mmengine.config import Config

import mmfrozen  # noqa: F401
from mmfrozen.engine import FreezeHook
from mmfrozen.engine.config_mode import config_mode
from tests.utils import CONFIGS, FROZEN

FT = f'{CONFIGS}/faster_rcnn/faster-rcnn_r50-ft_fpn_1x_coco.py'


def test_mode_is_read_from_the_config():
    assert config_mode(Config.fromfile(FROZEN)) == 'frozen'
    ft = Config.fromfile(FT)
    assert config_mode(ft) == 'ft'
    ft.model.backbone.init_cfg = None
    assert config_mode(ft) == 'scratch'
    ft.load_from = 'detector.pth'
    assert config_mode(ft) == 'ft'
    frozen = Config.fromfile(FROZEN)
    frozen.model.backbone.adapter_cfg = dict(reduction=4)
    assert config_mode(frozen) == 'frozen-adapters'


def test_a_subclass_of_the_freeze_hook_freezes_too():

    @HOOKS.register_module(force=True)
    class _TestSubclassFreezeHook(FreezeHook):
        pass

    frozen = Config.fromfile(FROZEN)
    frozen.custom_hooks = [dict(type='_TestSubclassFreezeHook', module='backbone')]
    assert config_mode(frozen) == 'frozen'
