"""ResidualAdapter and attach_residual_adapters on tiny mmdet ResNet/ResNeXt backbones."""
import pytest
import torch
from mmdet.models.backbones import ResNet, ResNeXt

import mmfrozen  # noqa: F401
from mmfrozen.freezing import FreezeSpec, freeze_module
from mmfrozen.freezing.spec import frozen_tensors
from mmfrozen.models import ResidualAdapter, attach_residual_adapters

TINY = dict(depth=18, base_channels=8, out_indices=(0, 1, 2, 3))


def test_zero_init_adapter_adds_nothing_and_has_gradient_path():
    adapter = ResidualAdapter(16, 32, stride=2, reduction=4)
    x = torch.randn(2, 16, 8, 8)
    out = adapter(x)
    assert out.shape == (2, 32, 4, 4) and torch.count_nonzero(out) == 0
    out.sum().backward()
    assert adapter.up.weight.grad is not None and adapter.up.weight.grad.abs().sum() > 0
    adapter.init_weights()
    assert torch.count_nonzero(adapter.up.weight) == 0


@pytest.mark.parametrize('cls,kwargs', [
    (ResNet, TINY),
    (ResNet, dict(depth=50, base_channels=8)),
    (ResNeXt, dict(depth=50, groups=2, base_width=4, base_channels=8)),
])
def test_attach_keeps_outputs_and_checkpoint_keys(cls, kwargs):
    torch.manual_seed(0)
    plain, adapted = cls(**kwargs), cls(**kwargs)
    adapted.load_state_dict(plain.state_dict())
    n = attach_residual_adapters(adapted, dict(reduction=4))
    plain.eval()
    adapted.eval()  # mmdet's ResNet.train() returns None: no chaining
    assert n == sum(len(getattr(plain, name)) for name in plain.res_layers)
    # the plain checkpoint's keys are all still there, unchanged; only adapter keys are new
    plain_keys, adapted_keys = set(plain.state_dict()), set(adapted.state_dict())
    assert plain_keys <= adapted_keys
    assert all('.adapter.' in k for k in adapted_keys - plain_keys)
    missing, unexpected = adapted.load_state_dict(plain.state_dict(), strict=False)
    assert unexpected == [] and all('.adapter.' in k for k in missing)
    x = torch.randn(2, 3, 64, 64)
    for a, b in zip(plain(x), adapted(x)):
        assert torch.equal(a, b)
    # a non-zero adapter does change the features
    with torch.no_grad():
        next(iter(adapted.layer1)).adapter.up.bias.fill_(1.0)
    assert not torch.equal(plain(x)[0], adapted(x)[0])


def test_adapters_stay_trainable_inside_a_frozen_backbone():
    backbone = ResNet(**TINY)
    attach_residual_adapters(backbone, dict(reduction=4, stages=(False, True, True, True)))
    assert not hasattr(backbone.layer1[0], 'adapter') and hasattr(backbone.layer2[0], 'adapter')
    report = freeze_module(backbone, FreezeSpec(path=''))
    assert report.trainable_modules == sorted(
        f'{layer}.{i}.adapter' for layer in ('layer2', 'layer3', 'layer4') for i in range(2))
    for name, p in backbone.named_parameters():
        assert p.requires_grad == ('.adapter.' in name), name
    # the fingerprint covers the frozen weights only
    names = [n for n, _ in frozen_tensors(backbone)]
    assert names and not any('adapter' in n for n in names)
    # the blocks around the adapters compute the frozen function: inference mode
    backbone.train()
    backbone(torch.randn(2, 3, 32, 32))
    assert not any(m.training for n, m in backbone.named_modules() if '.adapter' not in n)
    assert all(m.training for n, m in backbone.named_modules() if '.adapter' in n)


def test_bad_adapter_cfg_is_a_clear_error():
    with pytest.raises(ValueError, match='one bool per stage'):
        attach_residual_adapters(ResNet(**TINY), dict(stages=(True, True)))
    with pytest.raises(TypeError, match='res_layers'):
        attach_residual_adapters(torch.nn.Conv2d(3, 3, 1), {})
    with pytest.raises(ValueError, match='reduction'):
        ResidualAdapter(8, 8, reduction=0)
    backbone = ResNet(**TINY)
    attach_residual_adapters(backbone, {})
    with pytest.raises(ValueError, match='already has adapters'):
        attach_residual_adapters(backbone, {})
