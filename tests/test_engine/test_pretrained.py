"""mmfrozen.engine.pretrained: where a frozen module's weights come from."""
import mmengine.runner.checkpoint
import pytest
import torch
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import nn

import mmfrozen  # noqa: F401
from mmfrozen.engine import FrozenRunner, build_frozen_model
from mmfrozen.engine.pretrained import (RandomInitFrozenError, assert_pretrained,
                                        check_pretrained_reachable, pretrained_init_cfg,
                                        verify_frozen_weights_loaded,
                                        verify_loaded_from_pretrained)
from mmfrozen.freezing import FreezeSpec, freeze_module, resolve_module
from tests._probe_hook import FreezeProbeHook
from tests.utils import build_runner, tiny_frozen_cfg

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


@pytest.mark.parametrize('backbone,path', [
    (RESNET, 'backbone.layer1'),
    (dict(type='mmpretrain.VisionTransformer', img_size=32, patch_size=16,
          arch=dict(embed_dims=16, num_layers=2, num_heads=2, feedforward_channels=32)),
     'backbone.layers.0')])
def test_freezing_a_sub_path_under_a_prefixed_init_cfg(tmp_path, backbone, path):
    """The backbone's init_cfg loads a detector-layout checkpoint (prefix='backbone.'): it loads
    every part of the backbone, so a part of it frozen alone holds pretrained weights too."""
    import mmpretrain.models  # noqa: F401  (registers mmpretrain.VisionTransformer)
    state = {f'backbone.{k}': v + 1 if v.is_floating_point() else v
             for k, v in MODELS.build(backbone).state_dict().items()}
    torch.save({'state_dict': state}, tmp_path / 'detector.pth')
    init_cfg = dict(type='Pretrained', checkpoint=str(tmp_path / 'detector.pth'),
                    prefix='backbone.')
    model = build_frozen_model(dict(type='_Holder', backbone=dict(backbone, init_cfg=init_cfg)),
                               [dict(type='FreezeHook', module=path)], default_scope='mmdet')
    spec = FreezeSpec(path)
    assert pretrained_init_cfg(model, path)['owner'] == 'backbone'
    model.init_weights()
    n = len(list(resolve_module(model, path).parameters()))
    assert f'{n} of {n} frozen parameters hold' in verify_frozen_weights_loaded(model, spec, None)
    with torch.no_grad():
        for param in resolve_module(model, path).parameters():
            param.add_(1)
    with pytest.raises(RandomInitFrozenError, match=rf"\d+ of \d+ frozen tensors of '{path}'.*"
                                                    rf"looked for key '{path[9:]}\."):
        verify_frozen_weights_loaded(model, spec, None)


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


def test_a_cached_checkpoint_url_needs_no_network(tmp_path, monkeypatch):
    from mmengine.runner.checkpoint import get_torchvision_models
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    url = 'http://127.0.0.1:9/resnet18-tiny.pth'  # refuses every connection
    model = _model(dict(type='Pretrained', checkpoint=url))
    with pytest.raises(ConnectionError, match=r'is not in the download cache \('
                                              rf'{tmp_path}/torch/hub/checkpoints/'
                                              r'resnet18-tiny\.pth\)'):
        check_pretrained_reachable(model, FreezeSpec('backbone'))
    (tmp_path / 'torch' / 'hub' / 'checkpoints').mkdir(parents=True)
    torch.save(MODELS.build(RESNET).state_dict(),
               tmp_path / 'torch' / 'hub' / 'checkpoints' / 'resnet18-tiny.pth')
    check_pretrained_reachable(model, FreezeSpec('backbone'))  # found in the cache
    # torchvision:// names are looked up in mmengine's table, as its loader does
    real = get_torchvision_models()['resnet18']
    torch.save({}, tmp_path / 'torch' / 'hub' / 'checkpoints' / real.rpartition('/')[2])
    model.backbone.init_cfg['checkpoint'] = 'torchvision://resnet18'
    check_pretrained_reachable(model, FreezeSpec('backbone'))
    model.backbone.init_cfg['checkpoint'] = 'torchvision://resnet34'
    monkeypatch.setattr(mmengine.runner.checkpoint, 'get_torchvision_models',
                        lambda: {'resnet34': url.replace('18', '34')})
    with pytest.raises(ConnectionError, match=r'checkpoint=torchvision://resnet34 \(downloaded '
                                              rf'from {url.replace("18", "34")}\)'):
        check_pretrained_reachable(model, FreezeSpec('backbone'))


def test_load_from_half_precision_checkpoint(tiny_coco, tmp_path):
    """Released checkpoints often store fp16/bf16: the fp32 model holds them cast, exactly."""
    cfg = tiny_frozen_cfg(tiny_coco, tmp_path, val=False, max_iters=1)
    state = torch.load(tmp_path / 'pretrained.pth')['state_dict']
    # weights in fp16, norm statistics in bf16
    half = {k: v.to(torch.bfloat16 if 'running' in k else torch.float16)
            if v.is_floating_point() else v for k, v in state.items()}
    torch.save({'state_dict': half}, tmp_path / 'half.pth')
    cfg.model.backbone.init_cfg = None
    cfg.load_from = str(tmp_path / 'half.pth')
    probe = FreezeProbeHook()
    build_runner(cfg, probe).train()
    loaded = probe.snapshots['before_train']
    assert all(torch.equal(loaded[k], v.to(loaded[k].dtype)) for k, v in half.items())


def test_pretrained_checkpoint_without_running_statistics_is_refused(tiny_coco, tmp_path):
    """A BN frozen without its running statistics keeps mean 0 / variance 1 for ever."""
    cfg = tiny_frozen_cfg(tiny_coco, tmp_path, val=False, max_iters=1)
    gen = torch.Generator().manual_seed(0)
    state = {k: v + torch.rand(v.shape, generator=gen) if v.is_floating_point() else v
             for k, v in torch.load(tmp_path / 'pretrained.pth')['state_dict'].items()}
    assert any('running_var' in k for k in state)  # like a trained network's
    torch.save({'state_dict': {k: v for k, v in state.items() if 'running_' not in k}},
               tmp_path / 'no_stats.pth')
    cfg.model.backbone.init_cfg.checkpoint = str(tmp_path / 'no_stats.pth')
    with pytest.raises(RandomInitFrozenError,
                       match=r"(?s)40 of 100 frozen tensors of 'backbone' do not hold.*40 of them "
                             r"are buffers such as 'backbone\.\w+\.running_(mean|var)'.*mean 0, "
                             r'variance 1.*allow_random_init=True'):
        build_runner(cfg).train()
    # the same opt-out as for a random initialisation
    cfg.custom_hooks = [dict(type='FreezeBackboneHook', allow_random_init=True)]
    build_runner(cfg).train()


@MODELS.register_module(force=True)
class _SelfLoadingBackbone(BaseModule):
    """A backbone ported from another code base (e.g. D-FINE's HGNetv2): ``pretrained=True``
    downloads its weights and ``pretrained='<path>'`` loads a file, when it is built."""

    def __init__(self, pretrained=False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        if isinstance(pretrained, str):
            self.load_state_dict(torch.load(pretrained))


@MODELS.register_module(force=True)
class _Holder(BaseModule):

    def __init__(self, backbone) -> None:
        super().__init__()
        self.backbone = MODELS.build(backbone)


def test_a_backbone_built_with_pretrained_is_not_refused(tmp_path):
    """pretrained=True or a path loads the backbone when it is built: the freeze accepts it."""
    state = {k: v + 1 if v.is_floating_point() else v
             for k, v in _SelfLoadingBackbone().state_dict().items()}
    torch.save(state, tmp_path / 'own.pth')
    hooks = [dict(type='FreezeBackboneHook')]
    for pretrained in (str(tmp_path / 'own.pth'), True):
        runner = FrozenRunner(model=dict(type='_Holder', backbone=dict(
            type='_SelfLoadingBackbone', pretrained=pretrained)), work_dir=str(tmp_path),
            custom_hooks=hooks, default_scope='mmdet')
        msg = verify_frozen_weights_loaded(runner.model, FreezeSpec('backbone'), None)
        assert ('4 of 4 frozen parameters hold the weights the module loaded itself (backbone: '
                f'pretrained={pretrained!r}; not compared with a file), and 2 of 2 '
                'floating-point buffers') in msg
        if pretrained is not True:  # the file's values: its buffers are 1 above a fresh BN's
            assert torch.equal(runner.model.backbone.bn.running_var, torch.full((4, ), 2.0))
    with pytest.raises(RandomInitFrozenError, match="pretrained=True/'<path>'"):
        build_frozen_model(dict(type='_Holder', backbone=dict(type='_SelfLoadingBackbone')),
                           hooks, default_scope='mmdet')
