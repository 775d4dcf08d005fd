"""Unit tests of mmfrozen.freezing on real mmdet modules (no Runner)."""
import pytest
import torch
from mmdet.registry import MODELS
from torch import nn

import mmfrozen  # noqa: F401  (registers, installs the checkpoint fix)
from mmfrozen.freezing import (Fingerprint, FreezeSpec, FrozenModuleChanged, freeze_module,
                               prune_optimizer)
from mmfrozen.freezing.fingerprint import tensor_digest
from mmfrozen.freezing.freeze import is_norm, keep_inference_hooks
from mmfrozen.freezing.optimizer import optimizer_holds
from mmfrozen.freezing.spec import frozen_parameters, frozen_tensors, resolve_module


class Tiny(nn.Module):
    """backbone (tiny mmdet ResNet-18) + neck, like a detector."""

    def __init__(self, norm='BN'):
        super().__init__()
        self.backbone = MODELS.build(
            dict(type='ResNet', depth=18, base_channels=8, num_stages=4, out_indices=(0, 1, 2, 3),
                 norm_cfg=dict(type=norm, num_groups=4) if norm == 'GN' else dict(type=norm),
                 frozen_stages=-1, norm_eval=False))
        self.neck = nn.Conv2d(64, 8, 1)

    def forward(self, x):
        return self.neck(self.backbone(x)[-1])


def test_freeze_params_norms_and_graph():
    model = Tiny()
    report = freeze_module(model, FreezeSpec('backbone'))
    assert report.frozen_params == sum(p.numel() for p in model.backbone.parameters())
    assert report.norm_layers == sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert not any(p.requires_grad for p in model.backbone.parameters())
    assert all(p.requires_grad for p in model.neck.parameters())

    before = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    captured = {}
    model.backbone.register_forward_hook(lambda m, i, o: captured.update(out=o[-1]))
    model.train()  # what the loops do every epoch/iteration
    assert model.neck.training
    out = model(torch.randn(2, 3, 32, 32))
    out.sum().backward()
    # BN statistics and counters did not move although train() was called
    for k, v in model.backbone.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert all(not m.training for m in model.backbone.modules())
    # no autograd graph through the frozen module
    assert captured['out'].grad_fn is None and not captured['out'].requires_grad
    assert model.neck.weight.grad is not None
    assert all(p.grad is None for p in model.backbone.parameters())


@pytest.mark.parametrize('norm', ['GN', 'SyncBN'])
def test_freeze_other_norms(norm):
    model = Tiny(norm)
    freeze_module(model, FreezeSpec('backbone'))
    norms = [m for m in model.backbone.modules() if is_norm(m)]
    assert norms and all(not any(p.requires_grad for p in m.parameters()) for m in norms)
    model.train()
    model(torch.randn(1, 3, 32, 32))  # SyncBN in eval mode runs without a process group
    assert all(not m.training for m in norms)


def test_trainable_submodules_stay_trainable_and_in_graph():
    model = Tiny()
    report = freeze_module(model, FreezeSpec('backbone', trainable=('layer4',)))
    assert report.trainable_modules == ['layer4']
    assert all(p.requires_grad for p in model.backbone.layer4.parameters())
    assert not any(p.requires_grad for p in model.backbone.layer1.parameters())
    model.train()
    model(torch.randn(2, 3, 64, 64)).sum().backward()
    # at forward time: frozen parts in inference mode, the trainable part in training mode
    assert model.backbone.layer4.training and model.backbone.layer4[0].bn1.training
    assert not model.backbone.layer1.training and not model.backbone.layer1[0].bn1.training
    assert model.backbone.training  # holds layer4 and declares no frozen forward
    assert model.backbone.layer4[0].conv1.weight.grad is not None
    names = set(n for n, _ in frozen_tensors(model.backbone))
    assert not any(n.startswith('layer4.') for n in names) and 'conv1.weight' in names


def test_unknown_path_and_unmatched_pattern():
    model = Tiny()
    with pytest.raises(KeyError, match="has no sub-module 'bakbone'.*backbone"):
        freeze_module(model, FreezeSpec('bakbone'))
    with pytest.raises(KeyError, match='matches the trainable patterns'):
        freeze_module(model, FreezeSpec('backbone', trainable=('nothing*',)))
    assert resolve_module(model, '') is model


def test_refreeze_with_other_spec_is_refused():
    model = Tiny()
    freeze_module(model, FreezeSpec('backbone'))
    freeze_module(model, FreezeSpec('backbone'))  # idempotent
    with pytest.raises(ValueError, match='already frozen'):
        freeze_module(model, FreezeSpec('backbone', precision='bf16'))


def test_prune_optimizer_and_holds():
    model = Tiny()
    freeze_module(model, FreezeSpec('backbone'))
    frozen = frozen_parameters(model)
    assert len(frozen) == len(list(model.backbone.parameters()))
    opt = torch.optim.SGD([{'params': list(model.backbone.parameters())},
                           {'params': list(model.neck.parameters())}], lr=0.1, momentum=0.9)
    assert optimizer_holds(opt, frozen)
    assert prune_optimizer(opt, list(frozen.values())) == len(frozen)
    assert len(opt.param_groups) == 1 and not optimizer_holds(opt, frozen)
    model(torch.randn(1, 3, 32, 32)).sum().backward()
    opt.step()
    assert set(opt.state) == set(model.neck.parameters())


def test_prune_optimizer_with_one_group_per_parameter():
    """Custom constructors make one param group per parameter: frozen ones in consecutive groups
    must all go (deleting groups while walking the list skips the group after each deleted one),
    and each remaining parameter keeps its own group, hyper-parameters and state."""
    model = Tiny()
    freeze_module(model, FreezeSpec('backbone', trainable=('layer4', )))
    names = [n for n, _ in model.named_parameters()]
    params = dict(model.named_parameters())
    opt = torch.optim.SGD([dict(params=[params[n]], lr=0.001 * (i + 1), name=n)
                           for i, n in enumerate(names)], lr=0.1, momentum=0.9)
    for n in names:  # momentum buffers for every parameter, as after steps before freezing
        opt.state[params[n]] = {'momentum_buffer': torch.zeros_like(params[n])}
    frozen = frozen_parameters(model)
    assert names.index('backbone.conv1.weight') + 1 == names.index('backbone.bn1.weight')
    assert prune_optimizer(opt, list(frozen.values())) == len(frozen)
    assert optimizer_holds(opt, frozen) == []
    kept = [(n, 0.001 * (i + 1)) for i, n in enumerate(names) if n not in frozen]
    assert len(kept) == len(names) - len(frozen) > 1
    assert [(g['name'], g['lr']) for g in opt.param_groups] == kept
    assert [g['params'] for g in opt.param_groups] == [[params[n]] for n, _ in kept]
    assert set(opt.state) == {params[n] for n, _ in kept}


def test_fingerprint_names_first_changed_tensor():
    model = Tiny()
    freeze_module(model, FreezeSpec('backbone'))
    fp = Fingerprint.of(model, 'backbone')
    fp.check(model, 'unchanged')
    with torch.no_grad():
        model.backbone.layer2[0].bn1.running_var[0] += 1e-6
    with pytest.raises(FrozenModuleChanged, match=r"backbone\.layer2\.0\.bn1\.running_var"):
        fp.check(model, 'test')
    assert Fingerprint.from_dict(fp.to_dict()) == fp


def test_tensor_digest_is_stable_and_hashes_without_a_copy():
    """Digests are recorded in checkpoints: they stay what earlier versions wrote, and hashing a
    tensor allocates no copy of it (a 4 MB weight, traced by tracemalloc)."""
    import tracemalloc
    w = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 7
    assert [tensor_digest(w), tensor_digest(w.t()), tensor_digest(w, torch.bfloat16),
            tensor_digest(torch.arange(5)), tensor_digest(torch.zeros(0))] == [
                '1481a9c44273f6feb4112058', 'a71471b8dcf8cada98e91f79',
                '21122e97c7971b02fcf173d3', '365f5ee8b986dfb72ca57c60',
                '9f47de8e1c1d2967d6644a6f']
    big = torch.randn(1024, 1024)
    tracemalloc.start()
    try:
        tensor_digest(big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < big.numel() * big.element_size() // 100


@pytest.mark.parametrize('precision,channels_last', [('bf16', False), ('fp32', True),
                                                     ('bf16', True)])
def test_reduced_precision_forward(precision, channels_last):
    ref, model = Tiny(), Tiny()
    model.load_state_dict(ref.state_dict())
    freeze_module(ref, FreezeSpec('backbone'))
    freeze_module(model, FreezeSpec('backbone', precision=precision, channels_last=channels_last))
    x = torch.randn(2, 3, 32, 32)
    outs, ref_outs = model.backbone(x), ref.backbone(x)
    assert all(o.dtype == torch.float32 and o.is_contiguous() for o in outs)
    tol = 0.1 if precision == 'bf16' else 1e-5
    for o, r in zip(outs, ref_outs):
        assert (o - r).abs().max() <= tol * r.abs().max() + 1e-6
    with pytest.raises(ValueError, match='trainable parts'):
        freeze_module(Tiny(), FreezeSpec('backbone', trainable=('layer4',), precision='bf16'))


BACKBONES = {
    'resnext': dict(type='ResNeXt', depth=50, groups=4, base_width=4, base_channels=16,
                    frozen_stages=-1, norm_eval=False),
    'regnet': dict(type='RegNet', arch='regnetx_400mf', frozen_stages=-1, norm_eval=False),
    'swin': dict(type='SwinTransformer', embed_dims=24, depths=(1, 1, 1, 1), num_heads=(1, 2, 2, 4),
                 window_size=4, drop_path_rate=0.2, frozen_stages=-1),
    'mmpretrain-convnext': dict(type='mmpretrain.ConvNeXt', arch='atto', drop_path_rate=0.2,
                                out_indices=(0, 1, 2, 3), gap_before_final_norm=False),
}


@pytest.mark.parametrize('name', sorted(BACKBONES))
def test_freeze_any_backbone(name):
    if name.startswith('mmpretrain'):
        import mmpretrain.models  # noqa: F401
    backbone = MODELS.build(BACKBONES[name])
    model = nn.Module()
    model.backbone = backbone
    freeze_module(model, FreezeSpec('backbone'))
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    model.train()
    x = torch.randn(2, 3, 64, 64)
    outs = backbone(x)
    assert all(not o.requires_grad and o.grad_fn is None for o in outs)
    assert not any(m.training for m in backbone.modules())  # incl. norms and drop-path
    again = backbone(x)  # deterministic: no dropout/drop-path, no batch statistics
    assert all(torch.equal(a, b) for a, b in zip(outs, again))
    assert all(torch.equal(v, before[k]) for k, v in backbone.state_dict().items())
    assert not any(p.requires_grad for p in backbone.parameters())


def test_norms_swapped_after_freezing_stay_in_eval():
    """DDP wrapping with sync_bn converts BN to SyncBN after the model was frozen."""
    from mmengine.model import convert_sync_batchnorm
    model = Tiny()
    freeze_module(model, FreezeSpec('backbone'))
    before = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    model = convert_sync_batchnorm(model)
    assert isinstance(model.backbone.bn1, nn.SyncBatchNorm)
    model.train()
    model(torch.randn(2, 3, 64, 64))  # SyncBN in eval mode needs no process group
    assert not model.backbone.bn1.training
    assert all(torch.equal(v, before[k]) for k, v in model.backbone.state_dict().items())


def test_parameter_free_modules_inside_trainable_parts_follow_train_mode():
    class Adapter(nn.Module):
        mmfrozen_trainable = True

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(64, 64, 1)
            self.drop = nn.Dropout(0.5)

        def forward(self, x):
            return self.drop(self.conv(x))

    model = Tiny()
    model.backbone.adapter = Adapter()
    freeze_module(model, FreezeSpec('backbone'))
    model.train()
    model.backbone(torch.randn(2, 3, 32, 32))
    assert model.backbone.adapter.training and model.backbone.adapter.drop.training
    assert not model.backbone.layer1.training


def test_spec_path_is_normalised():
    assert FreezeSpec('backbone.').path == 'backbone'
    with pytest.raises(ValueError, match='empty part'):
        FreezeSpec('roi_head..bbox_head')


class Head(nn.Module):
    """A head whose own forward is never called: the caller reaches into its parts, as
    mmdet's StandardRoIHead calls its bbox_head directly."""

    def __init__(self):
        super().__init__()
        self.bbox_head = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4),
                                       nn.Dropout(0.5))
        self.norms = nn.ModuleList([nn.BatchNorm2d(4)])

    def forward(self, x):  # pragma: no cover - never called, like StandardRoIHead.forward
        raise AssertionError('not called')


def test_inference_mode_without_the_frozen_roots_forward():
    model = nn.Module()
    model.roi_head = Head()
    freeze_module(model, FreezeSpec('roi_head'))
    before = {k: v.clone() for k, v in model.roi_head.state_dict().items()}
    model.train()
    x = torch.randn(2, 4, 8, 8)
    out = model.roi_head.bbox_head(x)  # the root's forward never runs
    model.roi_head.norms[0](out)       # a norm inside a ModuleList, called on its own
    ran = [model.roi_head.bbox_head, *model.roi_head.bbox_head, model.roi_head.norms[0]]
    assert not any(m.training for m in ran)
    assert all(torch.equal(v, before[k]) for k, v in model.roi_head.state_dict().items())
    assert torch.equal(out, model.roi_head.bbox_head(x))  # dropout off too


def test_norms_swapped_after_freezing_stay_in_eval_without_the_roots_forward():
    from mmengine.model import convert_sync_batchnorm
    model = nn.Module()
    model.roi_head = Head()
    freeze_module(model, FreezeSpec('roi_head'))
    model = convert_sync_batchnorm(model)
    assert isinstance(model.roi_head.bbox_head[1], nn.SyncBatchNorm)
    model.train()
    # SyncBN in training mode would need a process group (and a GPU): eval mode runs here.
    # A swapped norm is covered by the hook of the module that calls it ...
    out = model.roi_head.bbox_head(torch.randn(2, 4, 8, 8))
    assert not any(m.training for m in model.roi_head.bbox_head)
    # ... and, once FrozenRunner re-hooks after wrapping, also where it is called on its own
    assert keep_inference_hooks(model) == 2  # the two swapped norms
    model.train()
    model.roi_head.norms[0](out)
    assert not model.roi_head.norms[0].training
    assert keep_inference_hooks(model) == 0  # idempotent


def test_kept_submodules_keep_the_requires_grad_the_model_gave_them():
    """DETR-style ``norm_cfg=dict(type='BN', requires_grad=False)``: keeping layer4 trainable
    must not unfreeze its norms."""
    model = nn.Module()
    model.backbone = MODELS.build(
        dict(type='ResNet', depth=18, base_channels=8,
             norm_cfg=dict(type='BN', requires_grad=False), frozen_stages=-1))
    report = freeze_module(model, FreezeSpec('backbone', trainable=('layer4', )))
    layer4 = model.backbone.layer4
    assert not layer4[0].bn1.weight.requires_grad and not layer4[0].bn1.bias.requires_grad
    assert layer4[0].conv1.weight.requires_grad
    assert report.trainable_params == sum(p.numel() for p in layer4.parameters()
                                          if p.requires_grad)
    freeze_module(model, FreezeSpec('backbone', trainable=('layer4', )))  # idempotent
    assert not layer4[0].bn1.weight.requires_grad


def _fcos():
    """A tiny FCOS with ``norm_on_bbox``: its head scales box predictions by the stride only
    when not training."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='FCOS',
        data_preprocessor=dict(type='DetDataPreprocessor', mean=[0, 0, 0], std=[1, 1, 1]),
        backbone=dict(type='ResNet', depth=18, base_channels=8, out_indices=(1, 2, 3)),
        neck=dict(type='FPN', in_channels=[16, 32, 64], out_channels=16, num_outs=3,
                  add_extra_convs='on_output'),
        bbox_head=dict(type='FCOSHead', num_classes=3, in_channels=16, stacked_convs=1,
                       feat_channels=16, strides=[8, 16, 32], norm_on_bbox=True,
                       norm_cfg=dict(type='GN', num_groups=4, requires_grad=True),
                       centerness_on_reg=True, center_sampling=True,
                       regress_ranges=((-1, 64), (64, 128), (128, 1e8)),
                       loss_bbox=dict(type='GIoULoss', loss_weight=1.0)),
        test_cfg=dict(nms_pre=100, score_thr=0.05, nms=dict(type='nms', iou_threshold=0.5),
                      max_per_img=10)))


def _loss_batch(size):
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    torch.manual_seed(1)
    sample = DetDataSample(metainfo=dict(img_shape=(size, size), pad_shape=(size, size),
                                         batch_input_shape=(size, size), scale_factor=(1., 1.)))
    sample.gt_instances = InstanceData(bboxes=torch.tensor([[8., 8., 40., 44.]]),
                                       labels=torch.tensor([1]))
    return torch.rand(1, 3, size, size) * 255, [sample]


@pytest.mark.parametrize('path,trainable', [('', 'bbox_head.conv_cls'),
                                            ('bbox_head', 'conv_reg')])
def test_modules_around_a_trainable_part_run_their_training_branch(path, trainable):
    """A detector or head that holds a kept part follows model.train(): FCOS's head computes
    its training losses (not from boxes scaled by the stride, its test-time branch) and the
    kept part gets the gradient it gets with the rest frozen by hand."""
    def loss_and_grad(model):
        model.train()
        losses = model(*_loss_batch(64), mode='loss')
        sum(losses.values()).backward()
        return losses, model.get_submodule(full).weight.grad

    full = f'{path}.{trainable}'.strip('.')
    reference = _fcos()
    for name, param in reference.named_parameters():
        param.requires_grad_(name.startswith(full + '.'))
    for module in reference.modules():  # the norms frozen by hand stay in inference mode
        if is_norm(module):
            module.train = lambda mode=True, m=module: nn.Module.train(m, False)
    ref_losses, ref_grad = loss_and_grad(reference)
    model = _fcos()
    freeze_module(model, FreezeSpec(path, trainable=(trainable, )))
    losses, grad = loss_and_grad(model)
    assert model.training and model.bbox_head.training
    assert not model.bbox_head.cls_convs[0].gn.training  # frozen, holds nothing kept
    assert {k: v.item() for k, v in losses.items()} == {
        k: v.item() for k, v in ref_losses.items()}
    assert torch.equal(grad, ref_grad)


def test_dino_with_a_kept_classifier_builds_its_denoising_queries():
    """DINO builds denoising queries only in training; frozen around its classifiers it still
    does, and trains them."""
    import os.path as osp

    import mmdet
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    cfg = Config.fromfile(osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs', 'dino',
                                   'dino-4scale_r50_8xb2-12e_coco.py')).model
    cfg.backbone.update(depth=18, base_channels=8, init_cfg=None)
    cfg.neck.update(in_channels=[16, 32, 64], norm_cfg=dict(type='GN', num_groups=8))
    for part in ('encoder', 'decoder'):
        cfg[part].num_layers = 1
    cfg.update(num_queries=20, dn_cfg=dict(cfg.dn_cfg, group_cfg=dict(dynamic=True,
                                                                       num_dn_queries=10)))
    cfg.bbox_head.num_classes = 3
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()  # DINO's level_embed is allocated uninitialised
    freeze_module(model, FreezeSpec('', trainable=('bbox_head.cls_branches', )))
    model.train()
    losses = model(*_loss_batch(128), mode='loss')
    assert 'dn_loss_cls' in losses
    sum(losses.values()).backward()
    assert model.bbox_head.cls_branches[0].weight.grad.abs().sum() > 0


def test_a_module_that_declares_its_forward_frozen_runs_in_inference_mode():
    """``mmfrozen_frozen_forward = True`` (on the class or the instance): the module holds a
    trainable part but computes a frozen function, so it runs in inference mode."""
    class Block(nn.Module):
        mmfrozen_frozen_forward = True

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(64, 64, 1)
            self.adapter = nn.Conv2d(64, 64, 1)

    model = Tiny()
    model.backbone.block = Block()
    model.backbone.other = nn.Sequential(nn.Conv2d(64, 64, 1), nn.Conv2d(64, 64, 1))
    model.backbone.other.mmfrozen_frozen_forward = True
    freeze_module(model, FreezeSpec('backbone', trainable=('*.adapter', 'other.1')))
    model.train()
    model.backbone(torch.randn(2, 3, 32, 32))
    assert model.backbone.training  # holds kept parts, declares nothing
    assert not model.backbone.block.training and not model.backbone.other.training
    assert model.backbone.block.adapter.training and model.backbone.other[1].training
