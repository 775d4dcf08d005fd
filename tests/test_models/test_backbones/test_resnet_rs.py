"""ResNetRS: timm's ResNet-RS as an mmdet backbone, loading timm classifier checkpoints."""
import pytest
import torch

import mmfrozen  # noqa: F401
from mmfrozen.engine.pretrained import RandomInitFrozenError, verify_loaded_from_pretrained
from mmfrozen.freezing import FreezeSpec, freeze_module
from mmfrozen.models import ResNetRS

timm = pytest.importorskip('timm', reason='ResNetRS needs timm (requirements/runtime.txt)')

# resnetrs50's structure (deep stem, strided-conv stem, avg-pool shortcuts, SE) at toy widths
TINY = dict(layers=(1, 1, 1, 1), channels=(8, 16, 32, 64), stem_width=8)


def test_resnet_rs_101_is_the_papers_backbone():
    """SE (ratio 0.25), ResNet-D and no stem max pool; 61.6M parameters without the classifier,
    the frozen part of the paper's Table 3 (83.5M - 21.9M)."""
    backbone = ResNetRS(depth=101)
    assert backbone.out_channels == (256, 512, 1024, 2048) and backbone.strides == (4, 8, 16, 32)
    n = sum(p.numel() for p in backbone.parameters())
    assert abs(n - 61.6e6) < 0.05e6, n
    net = backbone.timm_model
    assert [len(getattr(net, f'layer{i}')) for i in range(1, 5)] == [3, 4, 23, 3]
    block = net.layer2[0]
    assert block.se.fc1.out_channels == block.conv3.out_channels // 4  # SE ratio 0.25
    assert isinstance(block.downsample[0], torch.nn.AvgPool2d)  # ResNet-D shortcut
    assert isinstance(net.maxpool, torch.nn.Sequential)  # stem pool replaced by a strided conv


def test_loads_a_timm_classifier_checkpoint_through_init_cfg(tmp_path):
    torch.manual_seed(0)
    classifier = timm.create_model('resnetrs50', **TINY)
    torch.save(classifier.state_dict(), tmp_path / 'resnetrs.pth')  # timm's published layout
    backbone = ResNetRS(depth=50, init_cfg=dict(type='Pretrained',
                                                checkpoint=str(tmp_path / 'resnetrs.pth')),
                        **TINY)
    backbone.init_weights()
    state = classifier.state_dict()
    for name, tensor in backbone.state_dict().items():
        assert torch.equal(tensor, state[name[len('timm_model.'):]]), name
    # features equal those of the classifier's stages
    classifier.eval()
    backbone.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        feats = backbone(x)
        ref = classifier.forward_intermediates(x, indices=4, intermediates_only=True)  # C2-C5
    assert len(feats) == len(ref) == 4
    for a, b in zip(feats, ref):
        torch.testing.assert_close(a, b)
    # its own state dict (a detector checkpoint) loads too
    again = ResNetRS(depth=50, **TINY)
    assert not again.load_state_dict(backbone.state_dict(), strict=True).missing_keys


def test_frozen_resnet_rs_verifies_a_timm_checkpoint_after_its_key_mapping(tmp_path):
    """The ``rs101-frozen`` configs point ``init_cfg`` at timm's published checkpoint, whose keys
    lack ``timm_model.``: the pretrained check compares what was loaded, after the mapping."""
    torch.manual_seed(0)
    state = timm.create_model('resnetrs50', **TINY).state_dict()  # timm's published layout
    torch.save(state, tmp_path / 'resnetrs.pth')
    model = torch.nn.Module()
    model.backbone = ResNetRS(depth=50, init_cfg=dict(
        type='Pretrained', checkpoint=str(tmp_path / 'resnetrs.pth')), **TINY)
    spec = FreezeSpec('backbone')
    freeze_module(model, spec)
    model.backbone.init_weights()
    n = len(list(model.backbone.parameters()))
    assert f'{n} of {n} frozen parameters hold' in verify_loaded_from_pretrained(model, spec)
    assert set(state) == set(torch.load(tmp_path / 'resnetrs.pth'))  # the file is unchanged
    with torch.no_grad():
        model.backbone.timm_model.layer2[0].conv2.weight.add_(1)
    with pytest.raises(RandomInitFrozenError, match=r'1 of \d+ frozen tensors.*first: '
                                                    r'backbone\.timm_model\.layer2\.0\.conv2'):
        verify_loaded_from_pretrained(model, spec)


def test_load_from_a_detector_checkpoint_in_timm_layout(tmp_path):
    """load_from with a detector checkpoint whose backbone keys are in timm's layout: the
    frozen tensors are compared with what the model loaded, after ResNetRS's key mapping."""
    from mmengine.runner.checkpoint import _load_checkpoint_to_model

    from types import SimpleNamespace

    from mmfrozen.engine.hooks import FreezeHook
    from mmfrozen.engine.pretrained import verify_frozen_weights_loaded
    torch.manual_seed(0)
    timm_state = {k: v + 0.5 if v.is_floating_point() else v
                  for k, v in timm.create_model('resnetrs50', **TINY).state_dict().items()}
    ckpt = {'state_dict': {f'backbone.{k}': v for k, v in timm_state.items()}}
    model = torch.nn.Module()
    model.backbone = ResNetRS(depth=50, **TINY)
    spec = FreezeSpec('backbone')
    freeze_module(model, spec)
    hook = FreezeHook('backbone')
    hook.after_load_checkpoint(SimpleNamespace(model=model), ckpt)  # what it was given
    _load_checkpoint_to_model(model, ckpt)  # what load_from then does
    assert set(ckpt['state_dict']) == {f'backbone.{k}' for k in timm_state}  # unchanged
    n = len(list(model.backbone.parameters()))
    assert f'{n} of {n} frozen parameters hold the loaded checkpoint' in (
        verify_frozen_weights_loaded(model, spec, hook._loaded))


def test_frozen_resnet_rs_keeps_batch_norm_statistics():
    backbone = ResNetRS(depth=50, **TINY)
    freeze_module(backbone, FreezeSpec(path=''))
    backbone.train()
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    out = backbone(torch.randn(2, 3, 64, 64))
    assert all(o.grad_fn is None for o in out)
    assert all(torch.equal(before[k], v) for k, v in backbone.state_dict().items())


def test_bad_depth_is_a_clear_error():
    with pytest.raises(ValueError, match='depth must be one of'):
        ResNetRS(depth=34)
