"""LoRA, attach_lora and merge_lora on tiny mmpretrain ViT and EVA-02 backbones."""
import warnings

import numpy as np
import pytest
import torch
from mmpretrain.models.backbones import VisionTransformer, ViTEVA02

import mmfrozen  # noqa: F401
from mmfrozen.freezing import FreezeSpec, freeze_module
from mmfrozen.freezing.spec import frozen_tensors
from mmfrozen.freezing import Fingerprint, FrozenModuleChanged
from mmfrozen.freezing.fingerprint import FINGERPRINTS_KEY
from mmfrozen.models import (LoRA, LoRAVisionTransformer, LoRAViTEVA02, ViTEVA02Det, attach_lora,
                             merge_lora)
from mmfrozen.models.backbones.lora import (ATTENTION_TARGETS, lora_modules,
                                            merge_lora_checkpoint, merge_lora_state_dict)

TINY_ARCH = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
TINY_VIT = dict(arch=TINY_ARCH, img_size=64, patch_size=16, out_type='featmap',
                drop_rate=0.1, drop_path_rate=0.2)
TINY_EVA = dict(arch=dict(TINY_ARCH, feedforward_channels=48), img_size=56, patch_size=14,
                out_type='featmap', drop_path_rate=0.2)
CASES = [(VisionTransformer, LoRAVisionTransformer, TINY_VIT, (2, 3, 64, 64)),
         (ViTEVA02Det, LoRAViTEVA02, TINY_EVA, (2, 3, 56, 56))]


def _plain_and_lora(plain_cls, lora_cls, kwargs, lora_cfg):
    torch.manual_seed(0)
    plain = plain_cls(**kwargs)
    adapted = lora_cls(lora_cfg=lora_cfg, **kwargs)
    missing, unexpected = adapted.load_state_dict(plain.state_dict(), strict=False)
    assert unexpected == [] and missing and all('.lora.' in k for k in missing)
    plain.eval()
    adapted.eval()  # mmpretrain's ViT.train() returns None: no chaining
    return plain, adapted


def _randomise(loras):
    with torch.no_grad():
        for lora in loras:
            lora.up.weight.normal_(0, 0.2)


def test_zero_init_lora_adds_nothing_and_trains():
    lora = LoRA(16, 24, rank=4, alpha=8)
    x = torch.randn(3, 5, 16)
    out = lora(x)
    assert out.shape == (3, 5, 24) and torch.count_nonzero(out) == 0
    assert lora.scale == 2.0 and torch.count_nonzero(lora.delta_weight()) == 0
    out.sum().backward()
    assert lora.up.weight.grad is not None and lora.up.weight.grad.abs().sum() > 0
    with torch.no_grad():
        lora.up.weight.fill_(0.5)
    lora.init_weights()
    assert torch.count_nonzero(lora.up.weight) == 0


@pytest.mark.parametrize('plain_cls,lora_cls,kwargs,shape', CASES,
                         ids=['vit', 'eva02'])
@pytest.mark.parametrize('targets,per_layer', [('attn', 2), ('attn+mlp', None)])
def test_step0_equals_plain_and_checkpoint_keys_unchanged(plain_cls, lora_cls, kwargs, shape,
                                                          targets, per_layer):
    plain, adapted = _plain_and_lora(plain_cls, lora_cls, kwargs, dict(rank=4, targets=targets))
    mlp_linears = sum(isinstance(m, torch.nn.Linear) for n, m in plain.named_modules()
                      if '.ffn.' in n or '.mlp.' in n)
    expected = 2 * 2 + (0 if per_layer else mlp_linears)
    assert adapted.num_lora == expected == len(list(adapted.loras()))
    # the plain checkpoint's keys are all still there, unchanged; only LoRA keys are new
    assert set(plain.state_dict()) <= set(adapted.state_dict())
    assert all('.lora.' in k for k in set(adapted.state_dict()) - set(plain.state_dict()))
    x = torch.randn(*shape)
    for a, b in zip(plain(x), adapted(x)):
        assert torch.equal(a, b)
    _randomise(adapted.loras())  # a trained update does change the features
    assert not torch.allclose(plain(x)[0], adapted(x)[0])


@pytest.mark.parametrize('plain_cls,lora_cls,kwargs,shape', CASES, ids=['vit', 'eva02'])
def test_merge_gives_the_plain_architecture_and_the_same_outputs(plain_cls, lora_cls, kwargs,
                                                                 shape):
    plain, adapted = _plain_and_lora(plain_cls, lora_cls, kwargs,
                                     dict(rank=4, alpha=8, targets='attn+mlp'))
    _randomise(adapted.loras())
    x = torch.randn(*shape)
    with torch.no_grad():
        before = adapted(x)
        n = adapted.num_lora
        assert merge_lora(adapted) == n
        after = adapted(x)
    assert not list(adapted.loras())
    for a, b in zip(before, after):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    # merged weights load into the plain backbone (same keys, strict) and give its outputs
    assert set(adapted.state_dict()) == set(plain.state_dict())
    plain.load_state_dict(adapted.state_dict(), strict=True)
    with torch.no_grad():
        for a, b in zip(plain(x), after):
            assert torch.equal(a, b)
    assert merge_lora(adapted) == 0  # nothing left to merge


@pytest.mark.parametrize('plain_cls,lora_cls,kwargs,shape', CASES, ids=['vit', 'eva02'])
def test_merging_the_state_dict_equals_merging_the_model(plain_cls, lora_cls, kwargs, shape):
    """merge_lora_state_dict (the checkpoint merge, no model built) gives bitwise the weights
    merge_lora leaves in the model, and refuses updates of another rank or without their B."""
    _, adapted = _plain_and_lora(plain_cls, lora_cls, kwargs,
                                 dict(rank=4, alpha=8, targets='attn+mlp'))
    _randomise(adapted.loras())
    state = {k: v.clone() for k, v in adapted.state_dict().items()}  # merge_lora: in place
    merged, n = merge_lora_state_dict(state, rank=4, alpha=8)
    assert n == adapted.num_lora == merge_lora(adapted)
    assert list(merged) == list(adapted.state_dict())  # the plain keys, in the model's order
    assert all(torch.equal(merged[k], v) for k, v in adapted.state_dict().items())
    assert any(not torch.equal(merged[k], state[k]) for k in merged)  # the updates were folded
    with pytest.raises(ValueError, match=r'has rank 4, not lora_cfg.rank=8'):
        merge_lora_state_dict(state, rank=8)
    no_b = {k: v for k, v in state.items() if not k.endswith('.lora.up.weight')}
    with pytest.raises(ValueError, match=r'does not fit its linear layer \(no B\)'):
        merge_lora_state_dict(no_b, rank=4)


@pytest.mark.parametrize('plain_cls,lora_cls,kwargs,shape', CASES, ids=['vit', 'eva02'])
def test_checkpoint_merge_folds_exactly_the_updates_the_config_places(plain_cls, lora_cls, kwargs,
                                                                      shape, tmp_path):
    """merge_lora_checkpoint folds in the updates lora_cfg.targets place, on the layers only
    (attn) or all of them (attn+mlp); a checkpoint lacking some of them (keys dropped) or holding
    others (another config's run, an edited file) is refused instead of merged as it is."""
    def checkpoint(targets, name, drop=None):
        _, adapted = _plain_and_lora(plain_cls, lora_cls, kwargs, dict(rank=2, targets=targets))
        _randomise(adapted.loras())
        state = {f'backbone.{k}': v for k, v in adapted.state_dict().items()
                 if drop is None or drop not in k}
        torch.save({'state_dict': state}, tmp_path / name)
        return str(tmp_path / name), adapted

    def merge(targets, ckpt):
        config = tmp_path / 'lora.py'
        config.write_text(f'model = dict(backbone=dict(lora_cfg=dict(rank=2, '
                          f'targets={targets!r})))\n')
        return merge_lora_checkpoint(str(config), ckpt, str(tmp_path / 'merged.pth'))

    for targets in ('attn', 'attn+mlp'):
        ckpt, adapted = checkpoint(targets, f'{targets}.pth')
        assert merge(targets, ckpt) == adapted.num_lora == merge_lora(adapted)
        merged = torch.load(tmp_path / 'merged.pth', weights_only=False)['state_dict']
        assert merged.keys() == {f'backbone.{k}' for k in adapted.state_dict()}
        assert all(torch.equal(merged[f'backbone.{k}'], v)
                   for k, v in adapted.state_dict().items())
    dropped, _ = checkpoint('attn', 'dropped.pth', drop='layers.1.attn.proj.lora.')
    with pytest.raises(ValueError, match=r'lora_cfg.targets .*place an update on '
                                         r'backbone.layers.1.attn.proj, .*dropped.pth holds none'):
        merge('attn', dropped)
    with pytest.raises(ValueError, match=r'attn\+mlp.pth holds LoRA updates of 4 layers that '
                                         r'lora_cfg.targets .* do not place \(first: backbone.'
                                         r'layers.0.(ffn|mlp)'):
        merge('attn', str(tmp_path / 'attn+mlp.pth'))
    # the patterns the run recorded (meta['cfg']), written in another order: the same placement
    ckpt = torch.load(tmp_path / 'attn.pth', weights_only=False)
    ckpt['meta'] = dict(cfg="model = dict(backbone=dict(lora_cfg=dict(rank=2, targets='attn')))")
    torch.save(ckpt, tmp_path / 'recorded.pth')
    assert merge(list(reversed(ATTENTION_TARGETS)), str(tmp_path / 'recorded.pth')) == 2 * 2


def test_checkpoint_merge_refuses_a_checkpoint_without_a_fingerprinted_weight(tmp_path):
    """A frozen weight the run fingerprinted and the checkpoint lacks (removed from the file) is
    refused before anything is merged, as an edited checkpoint, naming the weight; a weight an
    update is folded into is named as such, not as an update the config does not place."""
    _, adapted = _plain_and_lora(VisionTransformer, LoRAVisionTransformer, TINY_VIT,
                                 dict(rank=2))
    frozen = {k: v for k, v in adapted.state_dict().items() if '.lora.' not in k}
    fingerprint = Fingerprint.of_tensors('backbone', frozen, ())
    meta = {FINGERPRINTS_KEY: {'backbone': fingerprint.to_dict()}}
    config = tmp_path / 'lora.py'
    config.write_text('model = dict(backbone=dict(lora_cfg=dict(rank=2)))\n')
    for weight in ('layers.0.ln1.weight', 'layers.0.attn.qkv.weight'):
        state = {f'backbone.{k}': v for k, v in adapted.state_dict().items() if k != weight}
        torch.save({'meta': meta, 'state_dict': state}, tmp_path / 'edited.pth')
        with pytest.raises(FrozenModuleChanged,
                           match=rf"frozen tensor 'backbone.{weight}' is not in .*edited.pth, "
                                 r'.*were changed after it was written'):
            merge_lora_checkpoint(str(config), str(tmp_path / 'edited.pth'),
                                  str(tmp_path / 'merged.pth'))
        assert not (tmp_path / 'merged.pth').exists()


@pytest.mark.parametrize('plain_cls,lora_cls,kwargs,shape', CASES, ids=['vit', 'eva02'])
def test_lora_stays_trainable_inside_a_frozen_vit(plain_cls, lora_cls, kwargs, shape):
    backbone = lora_cls(lora_cfg=dict(rank=2), **kwargs)
    report = freeze_module(backbone, FreezeSpec(path=''))
    assert report.trainable_modules == sorted(
        f'layers.{i}.attn.{p}.lora' for i in range(2) for p in ('qkv', 'proj'))
    for name, p in backbone.named_parameters():
        assert p.requires_grad == ('.lora.' in name), name
    names = [n for n, _ in frozen_tensors(backbone)]
    assert names and not any('lora' in n for n in names)
    # LayerNorm, dropout and drop-path run in inference mode although train() was called
    backbone.train()
    seen = {}

    def record(name):
        def hook(module, args):
            seen[name] = module.training
        return hook

    hooks = [m.register_forward_pre_hook(record(n)) for n, m in backbone.named_modules()
             if type(m).__name__ in ('LayerNorm', 'Dropout', 'DropPath')]
    out = backbone(torch.randn(*shape))
    for h in hooks:
        h.remove()
    assert seen and not any(seen.values()), seen
    assert any(t in ' '.join(seen) for t in ('drop', 'path'))
    sum(o.sum() for o in out).backward()
    assert all(p.grad is None for n, p in backbone.named_parameters() if '.lora.' not in n)
    assert all(lora.up.weight.grad is not None for lora in backbone.loras())


def test_frozen_lora_vit_runs_its_own_dropout_in_inference_mode():
    """Attention dropout lives in the forward of the attention module, which holds the LoRA
    update of its qkv: frozen, the ViT is deterministic in training mode all the same, while the
    update (and its own dropout) trains."""
    torch.manual_seed(0)
    backbone = LoRAVisionTransformer(lora_cfg=dict(rank=2, dropout=0.5),
                                     layer_cfgs=dict(attn_drop_rate=0.5),
                                     **dict(TINY_VIT, drop_rate=0.5))
    freeze_module(backbone, FreezeSpec(path=''))
    backbone.train()
    x = torch.randn(2, 3, 64, 64)
    first, second = backbone(x), backbone(x)
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    assert not any(m.training for n, m in backbone.named_modules() if '.lora' not in n)
    loras = list(backbone.loras())
    assert all(m.training and m.dropout.training for m in loras)
    # a trained update brings its own dropout: a training-time choice of the update
    _randomise(loras)
    first, second = backbone(x), backbone(x)
    assert not torch.equal(first[0], second[0])
    sum(o.sum() for o in first).backward()
    assert all(m.up.weight.grad is not None for m in loras)


def test_frozen_vit_without_lora_records_no_graph():
    backbone = VisionTransformer(**TINY_VIT)
    freeze_module(backbone, FreezeSpec(path=''))
    backbone.train()
    out = backbone(torch.randn(2, 3, 64, 64))
    assert all(o.grad_fn is None and not o.requires_grad for o in out)


def test_lora_parameter_share_of_vit_b_at_rank_8():
    """The share is reported by count_params; on ViT-B/16 it is far below 2% at rank 8."""
    vit = LoRAVisionTransformer(arch='b', img_size=224, patch_size=16,
                                lora_cfg=dict(rank=8))
    lora = sum(p.numel() for m in vit.loras() for p in m.parameters())
    total = sum(p.numel() for p in vit.parameters())
    # per layer: qkv 8 * (768 + 3 * 768) + proj 8 * (768 + 768) = 36,864; 12 layers
    assert lora == 12 * 36864
    assert lora / (total - lora) < 0.02


def test_bad_lora_cfg_is_a_clear_error():
    with pytest.raises(ValueError, match='no nn.Linear'):
        attach_lora(VisionTransformer(**TINY_VIT), targets=('*.nothing',))
    with pytest.raises(ValueError, match='targets must be one of'):
        LoRAVisionTransformer(lora_cfg=dict(targets='everything'), **TINY_VIT)
    with pytest.raises(ValueError, match='rank'):
        LoRA(8, 8, rank=0)
    vit = VisionTransformer(**TINY_VIT)
    for rank in (2.5, '4', True):
        with pytest.raises(ValueError, match=rf"rank must be a positive int.*got {rank!r} "
                                             rf"\({type(rank).__name__}\)"):
            attach_lora(vit, rank=rank)
        with pytest.raises(ValueError, match='rank must be a positive int'):
            LoRAVisionTransformer(lora_cfg=dict(rank=rank), **TINY_VIT)
    assert not list(lora_modules(vit))  # refused before anything was attached
    vit = LoRAVisionTransformer(lora_cfg=dict(), **TINY_VIT)
    with pytest.raises(ValueError, match='already has LoRA'):
        attach_lora(vit)


def test_a_lora_larger_than_the_linears_it_adapts_warns():
    """The updates are compared with the linears they adapt, not with the whole backbone."""
    # qkv 32 -> 96 (3,168 params), proj 32 -> 32 (1,056) in each of 2 layers: 8,448 params;
    # a rank-r update of both adds r * (128 + 64) per layer, 384 r in all
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        attach_lora(VisionTransformer(**TINY_VIT), rank=np.int64(16))  # 6,144: no warning
    with pytest.warns(UserWarning, match=r'rank=23 adds 8,832 LoRA parameters for the 8,448 '
                                         r'of the 4 linears they adapt'):
        attach_lora(VisionTransformer(**TINY_VIT), rank=23)  # smaller than the backbone
    assert sum(p.numel() for p in VisionTransformer(**TINY_VIT).parameters()) > 8832
    # rank 32 = embed_dims: an update of full rank, 12,288 parameters for 8,448
    with pytest.warns(UserWarning, match=r'rank=32 is at least the smaller side of 4 of the 4 '
                                         r'adapted linears \(e.g. layers.0.attn.qkv: 32 -> 96\)'
                                         r'.*12,288 LoRA parameters for the 8,448'):
        attach_lora(VisionTransformer(**TINY_VIT), rank=32)


def test_numpy_rank_and_bad_alpha():
    vit = LoRAVisionTransformer(lora_cfg=dict(rank=np.int64(4), alpha=np.float32(8)),
                                **TINY_VIT)
    assert all(type(m.rank) is int and m.scale == 2.0 for m in vit.loras())
    vit = VisionTransformer(**TINY_VIT)
    for alpha in (0, -8, 0.0, '16', True):
        with pytest.raises(ValueError, match=rf'alpha must be a positive number, got '
                                             rf'{alpha!r} \({type(alpha).__name__}\).*alpha / '
                                             r'rank.*lora_cfg=dict\(rank=8, alpha=16\)'):
            attach_lora(vit, rank=4, alpha=alpha)
        with pytest.raises(ValueError, match='alpha must be a positive number'):
            LoRA(16, 16, rank=4, alpha=alpha)
    assert not list(lora_modules(vit))  # refused before anything was attached


def test_eva02_det_state_does_not_depend_on_the_input_size():
    """mmpretrain's ViTEVA02 re-registers its RoPE tables for every new patch grid; a frozen
    backbone's fingerprint must not change when a detector feeds it another image size."""
    torch.manual_seed(0)
    ref = ViTEVA02(**TINY_EVA)
    ref.eval()
    det = ViTEVA02Det(**TINY_EVA)
    det.load_state_dict(ref.state_dict(), strict=False)  # a ViTEVA02 checkpoint loads
    det.eval()
    assert not any('rope' in k for k in det.state_dict())
    freeze_module(det, FreezeSpec(path=''))
    before = Fingerprint.of(det, '')
    for size in (56, 84, 112):
        x = torch.randn(1, 3, size, size)
        with torch.no_grad():
            torch.testing.assert_close(det(x)[0], ref(x)[0])  # same outputs at every size
    assert Fingerprint.of(det, '').digests == before.digests  # no tensor added or changed


@pytest.mark.parametrize('plain_cls, lora_cls, kwargs, shape', CASES)
def test_the_backbones_own_initialisation_leaves_the_updates_alone(plain_cls, lora_cls, kwargs,
                                                                    shape, tmp_path):
    """LoRA on the attention and MLP linears ('attn+mlp'): mmpretrain's FFN initialiser sets the
    weight and bias of every nn.Linear of its block, which the updates' A and B are not: with no
    init_cfg every B stays zero; with a frozen-lora checkpoint as the Pretrained init_cfg, the
    updates hold its trained values after init_weights (not reset to zero)."""
    adapted = lora_cls(lora_cfg=dict(rank=4, targets='attn+mlp'), **kwargs)
    adapted.init_weights()
    ups = {n: m.up.weight for n, m in adapted.named_modules() if isinstance(m, LoRA)}
    assert any('.attn.' in n for n in ups) and any(('ffn' in n or 'mlp' in n) for n in ups)
    assert all(not w.any() for w in ups.values())
    _randomise(adapted.loras())
    trained = {k: v.clone() for k, v in adapted.state_dict().items()}
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in trained.items()}},
               tmp_path / 'lora_run.pth')
    again = lora_cls(lora_cfg=dict(rank=4, targets='attn+mlp'), init_cfg=dict(
        type='Pretrained', checkpoint=str(tmp_path / 'lora_run.pth'), prefix='backbone.'),
        **kwargs)
    again.init_weights()
    loaded = again.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in trained.items() if '.lora.' in k)
