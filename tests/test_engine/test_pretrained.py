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
from mmfrozen.freezing import FreezeSpec, freeze_module
from mmfrozen.freezing.spec import resolve_module
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
    loaded = model.backbone.conv1.weight.detach().clone()
    with torch.no_grad():
        model.backbone.conv1.weight.add_(1)
    with pytest.raises(RandomInitFrozenError, match='backbone.conv1.weight'):
        verify_loaded_from_pretrained(model, spec)
    # statistics the checkpoint holds, changed since: no hint of a file without statistics
    with torch.no_grad():
        model.backbone.conv1.weight.copy_(loaded)
        model.backbone.bn1.running_mean.add_(1)
    with pytest.raises(RandomInitFrozenError, match=r"first: backbone\.bn1\.running_mean; the "
                                                    r"checkpoint's 'bn1\.running_mean' holds "
                                                    r'other values\)\. They') as info:
        verify_loaded_from_pretrained(model, spec)
    assert 'running statistics' not in str(info.value)


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
                                                    rf"the checkpoint's '{path[9:]}\.\S+' holds "
                                                    r"other values"):
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


def test_a_broken_cached_checkpoint_is_refused_naming_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    cache = tmp_path / 'torch' / 'hub' / 'checkpoints'
    cache.mkdir(parents=True)
    model = _model(dict(type='Pretrained', checkpoint='http://127.0.0.1:9/r18.pth'))
    state = MODELS.build(RESNET).state_dict()
    torch.save(state, cache / 'r18.pth')
    whole = (cache / 'r18.pth').read_bytes()
    for broken, why in [(whole[:len(whole) // 2], 'a zip archive .* cut short'),
                        (b'<html>Proxy login</html>', "neither a zip archive.*b'<htm'")]:
        (cache / 'r18.pth').write_bytes(broken)
        with pytest.raises(RuntimeError, match=rf'(?s)model\.backbone\.init_cfg\.checkpoint='
                                               r'http://127\.0\.0\.1:9/r18\.pth, is in the '
                                               rf'download cache as {cache}/r18\.pth, but that '
                                               rf'file is {why}.*Delete it \(rm {cache}/r18'):
            check_pretrained_reachable(model, FreezeSpec('backbone'))
    # a complete file in torch's legacy format is not refused (it cannot be checked cheaply)
    torch.save(state, cache / 'r18.pth', _use_new_zipfile_serialization=False)
    check_pretrained_reachable(model, FreezeSpec('backbone'))
    model.backbone.init_weights()
    assert torch.equal(model.backbone.conv1.weight, state['conv1.weight'])


def test_the_field_named_is_the_config_key_of_a_list_init_cfg(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    model = _model([dict(type='Kaiming', layer='Conv2d'),
                    dict(type='Pretrained', checkpoint='http://127.0.0.1:9/r18.pth')])
    with pytest.raises(ConnectionError, match=r'model\.backbone\.init_cfg\.1\.checkpoint='
                                              r'http://127\.0\.0\.1:9/r18\.pth, is not in the '
                                              r'.*set model\.backbone\.init_cfg\.1\.checkpoint '
                                              'to the local file'):
        check_pretrained_reachable(model, FreezeSpec('backbone'))


def test_a_slow_server_is_not_refused(tmp_path, monkeypatch):
    """Only definite failures are refused (connection refused above); a server slower than the
    check's timeout is downloaded by mmengine, which has none: a warning, not an error."""
    import http.server
    import threading
    import time

    class Slow(http.server.BaseHTTPRequestHandler):

        def do_HEAD(self):
            time.sleep(1)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    for var in ('http_proxy', 'HTTP_PROXY', 'no_proxy', 'NO_PROXY'):
        monkeypatch.delenv(var, raising=False)
    url = f'http://127.0.0.1:{server.server_port}/r18.pth'
    model = _model(dict(type='Pretrained', checkpoint=url))
    warned = []
    monkeypatch.setattr('mmfrozen.engine.pretrained.print_log',
                        lambda msg, logger, level: warned.append(msg) if level == 30 else None)
    try:
        check_pretrained_reachable(model, FreezeSpec('backbone'), timeout=0.2)
    finally:
        server.shutdown()
    assert len(warned) == 1 and f'could not confirm within 0.2 s that the pretrained ' \
        f'checkpoint model.backbone.init_cfg.checkpoint={url} can be downloaded' in warned[0]


class _Det(BaseModule):
    """A detector-like module with an init_cfg of its own around its backbone's."""

    def __init__(self, init_cfg=None, backbone_init=None):
        super().__init__(init_cfg=init_cfg)
        self.backbone = MODELS.build(dict(RESNET, init_cfg=backbone_init))
        self.head = nn.Linear(4, 4)


def test_nested_init_cfgs_are_checked_in_the_order_mmengine_applies_them(tmp_path):
    """mmengine loads the backbone's init_cfg first and the detector's last (strict=False): each
    tensor holds the last checkpoint that has it, and is compared with that one."""
    imagenet = {k: v + 1 if v.is_floating_point() else v
                for k, v in MODELS.build(RESNET).state_dict().items()}
    torch.save({'state_dict': imagenet}, tmp_path / 'imagenet.pth')
    coco = {k: v + 2 if v.is_floating_point() else v for k, v in _Det().state_dict().items()}
    coco_no_layer1 = {k: v for k, v in coco.items() if not k.startswith('backbone.layer1.')}
    torch.save({'state_dict': coco_no_layer1}, tmp_path / 'coco.pth')
    torch.save({'state_dict': {k: v for k, v in coco.items() if k.startswith('head.')}},
               tmp_path / 'head.pth')
    backbone_init = dict(type='Pretrained', checkpoint=str(tmp_path / 'imagenet.pth'))
    for outer, path, holds in [('coco.pth', 'backbone', coco_no_layer1),
                               ('head.pth', 'backbone.layer1', imagenet)]:
        model = _Det(dict(type='Pretrained', checkpoint=str(tmp_path / outer)), backbone_init)
        spec = FreezeSpec(path)
        freeze_module(model, spec)
        model.init_weights()
        root = resolve_module(model, path)
        prefix = path[9:] + '.' if path != 'backbone' else ''
        for name, tensor in root.state_dict().items():
            key = f'backbone.{prefix}{name}'
            assert torch.equal(tensor, holds.get(key, imagenet.get(prefix + name))), name
        n = len(list(root.parameters()))
        msg = verify_frozen_weights_loaded(model, spec, None)
        assert f'{n} of {n} frozen parameters hold the pretrained checkpoint' in msg
        # the backbone: layer1 from imagenet.pth, the rest from coco.pth
        assert ('checkpoints ' in msg) == (path == 'backbone')
        assert pretrained_init_cfg(model, path)['owner'] == ''  # applied last
        with torch.no_grad():
            root.get_submodule('0.bn1' if prefix else 'bn1').running_mean.add_(1)
        with pytest.raises(RandomInitFrozenError) as info:
            verify_frozen_weights_loaded(model, spec, None)
        # held by the checkpoint, with other values: not "a checkpoint without statistics"
        assert 'holds other values' in str(info.value)
        assert 'mean 0, variance 1' not in str(info.value)


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


@MODELS.register_module(force=True)
class _HubBackbone(_SelfLoadingBackbone):
    """``pretrained=True`` on a machine without network, as timm through the Hugging Face Hub
    fails (after its retries)."""

    def __init__(self, pretrained=False) -> None:
        from huggingface_hub.errors import LocalEntryNotFoundError
        super().__init__()
        if pretrained is True:
            raise LocalEntryNotFoundError('An error happened while trying to locate the file on '
                                          'the Hub and we cannot find the requested files in '
                                          'the local cache.')


def test_pretrained_true_offline_names_the_module_and_the_fix(tmp_path):
    hooks = [dict(type='FreezeBackboneHook')]
    model = dict(type='_Holder', backbone=dict(type='_HubBackbone', pretrained=True))
    fix = (r"(?s)model\.backbone: pretrained=True\) were getting them: LocalEntryNotFoundError: "
           r".*cannot find the requested files in the local cache.*set pretrained=False and "
           r"init_cfg=dict\(type='Pretrained', checkpoint='<the local file>'\).*HF_HUB_OFFLINE=1")
    with pytest.raises(RuntimeError, match=fix):
        build_frozen_model(model, hooks, default_scope='mmdet')
    with pytest.raises(RuntimeError, match=fix):
        FrozenRunner(model=model, work_dir=str(tmp_path), custom_hooks=hooks,
                     default_scope='mmdet')
