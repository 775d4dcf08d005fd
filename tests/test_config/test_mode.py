"""The mode of a run is read from its config (freeze hooks, adapters, pretrained weights)."""
from mmdet.registry import HOOKS, MODELS
from mmengine.config import Config
from mmengine.model import BaseModule

import mmfrozen  # noqa: F401
from mmfrozen.engine import FreezeHook
from mmfrozen.config import config_mode
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


def test_backbones_that_load_themselves_count_as_pretrained_and_unknown_is_not_a_guess():
    cfg = Config.fromfile(FT)
    cfg.model.backbone.init_cfg = None
    cfg.model.backbone.pretrained = 'torchvision://resnet50'  # mmdet 2.x style
    assert config_mode(cfg) == 'ft'
    cfg.model.backbone = dict(type='mmpretrain.TIMMBackbone', model_name='resnet50',
                              pretrained=True)
    assert config_mode(cfg) == 'ft'
    cfg.model.backbone.pretrained = False
    assert config_mode(cfg) == 'scratch'
    # D-FINE's HGNetv2, whose package is not installed here
    cfg.model.backbone = dict(type='HGNetv2', name='B4', pretrained=True)
    assert config_mode(cfg) == 'ft'
    del cfg.model.backbone['pretrained']
    warnings = []
    assert config_mode(cfg, warnings) == 'unknown'
    assert len(warnings) == 1 and "'HGNetv2' is not registered here" in warnings[0]
    cfg.load_from = 'dfine_hgnetv2_b4_coco.pth'
    assert config_mode(cfg) == 'ft'

    @MODELS.register_module(force=True)
    class _TestPretrainedByDefault(BaseModule):

        def __init__(self, pretrained: bool = True) -> None:
            super().__init__()

    cfg.load_from = None
    cfg.model.backbone = dict(type='_TestPretrainedByDefault')
    assert config_mode(cfg) == 'ft'
