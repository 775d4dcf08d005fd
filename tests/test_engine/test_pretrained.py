"""mmfrozen.engine.pretrained: where a frozen module's weights come from."""
import pytest
import torch
from mmdet.registry import MODELS
from torch import nn

import mmfrozen  # noqa: F401
from mmfrozen.engine.pretrained import (RandomInitFrozenError, assert_pretrained,
                                        pretrained_init_cfg, verify_loaded_from_pretrained)
from mmfrozen.freezing import FreezeSpec, freeze_module

RESNET = dict(type='ResNet', depth=18, base_channels=8)


def _model(init_cfg):
    model = nn.Module()
    model.backbone = MODELS.build(dict(RESNET, init_cfg=init_cfg))
    return model


def test_prefixless_checkpoint_like_torchvision(tmp_path):
    """torchvision:// files are flat state dicts loaded without a prefix."""
    src = MODELS.build(RESNET)
    torch.save(src.state_dict(), tmp_path / 'flat.pth')
    model = _model(dict(type='Pretrained', checkpoint=str(tmp_path / 'flat.pth')))
    spec = FreezeSpec('backbone')
    freeze_module(model, spec)
    assert 'flat.pth' in assert_pretrained(model, spec, None, False)
    model.backbone.init_weights()
    n = len(list(model.backbone.parameters()))
    assert f'{n} of {n} frozen parameters hold' in verify_loaded_from_pretrained(model, spec)
    with torch.no_grad():
        model.backbone.conv1.weight.add_(1)
    with pytest.raises(RandomInitFrozenError, match='backbone.conv1.weight'):
        verify_loaded_from_pretrained(model, spec)


def test_enclosing_init_cfg_and_missing_checkpoint():
    model = _model(None)
    model.init_cfg = dict(type='Pretrained', checkpoint='whole.pth')  # a whole-model file
    assert pretrained_init_cfg(model, 'backbone')['owner'] == ''
    model.init_cfg = dict(type='Pretrained', checkpoint=None)
    assert pretrained_init_cfg(model, 'backbone') is None
    with pytest.raises(RandomInitFrozenError, match="refusing to freeze 'backbone'"):
        assert_pretrained(model, FreezeSpec('backbone'), None, False)
    # load_from and resume are accepted at build time and checked once loaded
    assert 'checked once loaded' in assert_pretrained(model, FreezeSpec('backbone'), 'x.pth',
                                                      False)
