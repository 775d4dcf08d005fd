"""Frozen ViTs and LoRA in real, tiny Mask R-CNN runs: the configs of the matrix, a ViT of two
32-wide layers, a locally written checkpoint in mmpretrain's key layout (``backbone.*``) loaded
through the configs' ``init_cfg``."""
import copy
import json
import os
import os.path as osp
import sys

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

import mmfrozen  # noqa: F401
from mmfrozen.freezing import Fingerprint
from mmfrozen.freezing.optimizer import optimizer_holds
from mmfrozen.freezing.spec import frozen_parameters
from mmfrozen.checkpoint import CheckpointMismatchError
from mmfrozen.models import LoRA, merge_lora
from mmfrozen.testing import tiny_overrides
from tests._probe_hook import FreezeProbeHook
from tests.utils import REPO, build_runner

from ...conftest import CONFIGS

NAME = 'mask-rcnn_{}-{}_sfp-nasfpn_lsj-72e-adamw_coco.py'
TINY_ARCH = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
PLAIN = {'dinov2-b': 'mmpretrain.VisionTransformer', 'eva02-b': 'ViTEVA02Det'}


def _shrink_heads(node):
    if isinstance(node, dict):
        for key in ('in_channels', 'feat_channels', 'out_channels', 'conv_out_channels'):
            if node.get(key) == 256:
                node[key] = 16
        if node.get('in_channels') == [256, 256, 256]:
            node['in_channels'] = [16, 16, 16]
        if 'fc_out_channels' in node:
            node['fc_out_channels'] = 32
        if node.get('type') == 'GN':
            node['num_groups'] = 4
        if node.get('type') == 'NASFPN':
            node['stack_times'] = 1
        for v in node.values():
            _shrink_heads(v)
    elif isinstance(node, list):
        for v in node:
            _shrink_heads(v)


def tiny_vit_cfg(tiny_coco, tmp_path, backbone='dinov2-b', mode='frozen-lora', **kw):
    """The real config, with a 2-layer 32-wide ViT, 16-wide pyramid and heads, on the tiny
    data, and a local stand-in for the mmpretrain checkpoint at ``tmp_path/pretrained.pth``."""
    cfg = Config.fromfile(osp.join(CONFIGS, 'mask_rcnn', NAME.format(backbone, mode)))
    cfg.model.backbone.update(arch=TINY_ARCH, img_size=64, drop_path_rate=0.2)
    cfg.model.backbone.pop('layer_scale_init_value', None)
    cfg.model.neck[0].in_channels = 32
    for name, sub in cfg.model.items():
        if name != 'backbone':
            _shrink_heads(sub)
    cfg = tiny_overrides(cfg, tiny_coco, str(tmp_path / 'work'), **kw)
    # mmpretrain's checkpoint layout: a classifier state dict, plain ViT weights under backbone.
    init_default_scope('mmdet')
    plain_cfg = {k: v for k, v in cfg.model.backbone.items() if k not in ('init_cfg', 'lora_cfg')}
    torch.manual_seed(1)
    plain = MODELS.build(dict(plain_cfg, type=PLAIN[backbone]))
    plain.init_weights()
    state = {f'backbone.{k}': v for k, v in plain.state_dict().items()}
    state['head.fc.weight'] = torch.randn(10, 32)
    torch.save({'state_dict': state}, tmp_path / 'pretrained.pth')
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=str(tmp_path / 'pretrained.pth'),
                                       prefix='backbone.')
    return cfg, plain


class _ModeProbe:
    """Records the training flag of every frozen norm/dropout/drop-path module at each
    forward while the model is in training mode."""

    def __init__(self, model):
        self.flags = []
        self.handles = []
        for name, m in model.backbone.named_modules():
            if type(m).__name__ in ('LayerNorm', 'Dropout', 'DropPath') and '.lora' not in name:
                self.handles.append(m.register_forward_pre_hook(self._hook(name, model)))

    def _hook(self, name, model):
        def hook(module, args):
            if model.training:
                self.flags.append((type(module).__name__, module.training))
        return hook


@pytest.mark.parametrize('backbone', ['dinov2-b', 'eva02-b'])
def test_frozen_lora_run_trains_lora_only_inside_the_vit(tiny_coco, tmp_path, backbone, capsys):
    cfg, _ = tiny_vit_cfg(tiny_coco, tmp_path, backbone, max_iters=3, val=False,
                          checkpoint_interval=3)
    probe = FreezeProbeHook()
    runner = build_runner(cfg, probe)
    model = runner.model
    modes = _ModeProbe(model)
    runner.train()
    before, after = probe.snapshots['before_train'], probe.snapshots['after_train']
    keys = [k for k in before if k.startswith('backbone.')]
    lora_keys = [k for k in keys if '.lora.' in k]
    assert lora_keys and len(lora_keys) == 2 * 2 * 2  # 2 layers x (qkv, proj) x (A, B)
    # parameters and buffers of the frozen ViT: bitwise the checkpoint, before and after
    ckpt = torch.load(tmp_path / 'pretrained.pth')['state_dict']
    for k in keys:
        if '.lora.' not in k:
            assert torch.equal(before[k], after[k]), k
            assert torch.equal(after[k], ckpt[k]), k
    # every LoRA update trained (B moved away from zero)
    assert all(not torch.equal(before[k], after[k]) for k in lora_keys if '.up.' in k)
    # optimizer: all LoRA parameters, no frozen one; the fingerprint covers the frozen part only
    frozen = frozen_parameters(model)
    assert frozen and not any('lora' in n for n in frozen)
    optimizer = runner.optim_wrapper.optimizer
    assert optimizer_holds(optimizer, frozen) == []
    loras = {n: p for n, p in model.named_parameters() if '.lora.' in n}
    assert len(optimizer_holds(optimizer, loras)) == len(loras)
    assert all(p.grad is None for p in frozen.values())
    assert not any('lora' in k for k in Fingerprint.of(model, 'backbone').digests)
    # LayerNorm, dropout and drop-path ran in inference mode at every training forward
    assert {kind for kind, _ in modes.flags} == {'LayerNorm', 'Dropout', 'DropPath'}
    assert not any(flag for _, flag in modes.flags)

    # merging the trained updates gives the frozen twin's architecture and the same detections
    out = tmp_path / 'merged.pth'
    cfg_path = tmp_path / 'tiny_lora.py'
    cfg.dump(str(cfg_path))
    sys.path.insert(0, osp.join(REPO, 'tools'))
    try:
        from merge_lora import main as merge_main
    finally:
        sys.path.pop(0)
    assert merge_main([str(cfg_path), str(tmp_path / 'work' / 'iter_3.pth'), '--out',
                       str(out)]) == 0
    merged = torch.load(out, weights_only=False)['state_dict']
    assert not any('.lora.' in k for k in merged)
    plain_cfg = copy.deepcopy(cfg.model)
    plain_cfg.backbone.pop('lora_cfg')
    plain_cfg.backbone.pop('init_cfg')
    plain_cfg.backbone.type = PLAIN[backbone]
    plain_model = MODELS.build(plain_cfg)
    plain_model.load_state_dict(merged, strict=True)
    lora_model = runner.model
    lora_model.eval()
    plain_model.eval()
    x = torch.rand(1, 3, 128, 128) * 255
    with torch.no_grad():
        for a, b in zip(lora_model.backbone(x), plain_model.backbone(x)):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    if backbone != 'dinov2-b':
        return
    # the frozen twin trains from the merged checkpoint (load_from): the merge fingerprinted the
    # merged weights, so the twin verifies them instead of refusing an "edited" checkpoint
    (tmp_path / 'twin').mkdir()
    twin, _ = tiny_vit_cfg(tiny_coco, tmp_path / 'twin', backbone, mode='frozen', max_iters=1,
                           val=False)
    # the unmerged checkpoint in the frozen twin (tools/test.py TWIN iter_3.pth, or load_from):
    # refused, naming the merge, instead of running the plain frozen ViT as the LoRA run
    unmerged = str(tmp_path / 'work' / 'iter_3.pth')
    for purpose, run in (('tested', 'test'), ('trained from', 'train')):
        twin.update(load_from=unmerged, work_dir=str(tmp_path / 'twin' / f'unmerged_{run}'))
        with pytest.raises(CheckpointMismatchError,
                           match=rf'(?s)holds the LoRA updates of a frozen-lora run \(4 '
                                 rf'adapted linear layers.*would be {purpose} as if.*'
                                 rf'tools/merge_lora.py'):
            getattr(build_runner(twin), run)()
    twin.update(load_from=str(out), work_dir=str(tmp_path / 'twin' / 'work'))
    twin_runner = build_runner(twin)
    twin_runner.train()
    assert all(torch.equal(v, merged[f'backbone.{k}'])
               for k, v in twin_runner.model.backbone.state_dict().items())

    # what the merge refuses instead of writing a checkpoint the twin would then accept
    def refused(config, checkpoint):
        capsys.readouterr()
        assert merge_main([str(config), str(checkpoint), '--out', str(tmp_path / 'x.pth')]) == 1
        assert not (tmp_path / 'x.pth').exists()
        return capsys.readouterr().err
    ckpt = torch.load(tmp_path / 'work' / 'iter_3.pth', weights_only=False)
    ckpt['state_dict']['backbone.layers.0.attn.qkv.weight'] += 0.5  # an edited frozen weight
    torch.save(ckpt, tmp_path / 'edited.pth')
    assert ("frozen tensor 'backbone.layers.0.attn.qkv.weight' changed (in "
            f"{tmp_path / 'edited.pth'}, given to merge_lora_checkpoint)") in refused(
                cfg_path, tmp_path / 'edited.pth')
    other_alpha = copy.deepcopy(cfg)  # a sibling config that scales the updates otherwise
    other_alpha.model.backbone.lora_cfg = dict(cfg.model.backbone.lora_cfg, alpha=64)
    other_alpha.dump(str(tmp_path / 'other_alpha.py'))
    assert ("other_alpha.py sets lora_cfg.alpha=64.0, but the run that wrote "
            f"{tmp_path / 'work' / 'iter_3.pth'} trained with alpha=") in refused(
                tmp_path / 'other_alpha.py', tmp_path / 'work' / 'iter_3.pth')
    assert f'{out} is already merged (its 4 LoRA updates' in refused(cfg_path, out)
    ckpt = torch.load(out, weights_only=False)
    del ckpt['meta']['mmfrozen_lora_merged']  # e.g. a frozen run's checkpoint
    torch.save(ckpt, tmp_path / 'plain.pth')
    assert 'holds no LoRA update (no ".lora." weights' in refused(cfg_path, tmp_path / 'plain.pth')


def test_step0_of_frozen_lora_equals_the_frozen_vit(tiny_coco, tmp_path):
    cfg, plain = tiny_vit_cfg(tiny_coco, tmp_path, max_iters=1, val=False)
    runner = build_runner(cfg)
    runner.model.init_weights()  # what train() does before the first step: loads the checkpoint
    backbone = runner.model.backbone
    assert all(torch.count_nonzero(m.up.weight) == 0 for m in backbone.modules()
               if isinstance(m, LoRA))
    backbone.train()
    plain.eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        for a, b in zip(plain(x), backbone(x)):
            assert torch.equal(a, b)
    assert merge_lora(backbone) == 4


def test_frozen_vit_run_records_no_graph_and_keeps_its_state(tiny_coco, tmp_path):
    cfg, _ = tiny_vit_cfg(tiny_coco, tmp_path, mode='frozen', max_iters=2, val=False)
    probe = FreezeProbeHook()
    runner = build_runner(cfg, probe)
    runner.train()
    records = probe.forward_records
    assert records and all(r['model_training'] for r in records)
    assert not any(r['any_submodule_training'] or r['grad_fn'] or r['requires_grad']
                   for r in records)
    before, after = probe.snapshots['before_train'], probe.snapshots['after_train']
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith('backbone.'))
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith('neck.'))


@pytest.mark.slow
def test_dist_train_frozen_lora_vit_on_two_processes(tiny_coco, tmp_path):
    """DDP without find_unused_parameters: the LoRA updates inside the frozen ViT are the only
    backbone parameters DDP sees, and both ranks end with the same ones."""
    import subprocess
    import socket
    cfg, _ = tiny_vit_cfg(tiny_coco, tmp_path, max_iters=2, val=False, checkpoint_interval=2)
    cfg.custom_imports = dict(imports=['mmfrozen', 'tests._probe_hook'],
                              allow_failed_imports=False)
    cfg.custom_hooks = [*cfg.custom_hooks, dict(type='FreezeProbeHook')]
    assert not cfg.get('find_unused_parameters', False)
    path = str(tmp_path / 'tiny_lora.py')
    cfg.dump(path)
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1', PORT=str(port))
    proc = subprocess.run(['bash', 'tools/dist_train.sh', path, '2'], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    ranks = [json.load(open(tmp_path / 'work' / f'probe_rank{r}.json')) for r in (0, 1)]
    assert ranks[0]['backbone'] == ranks[1]['backbone']  # LoRA updates kept in sync
    assert ranks[0]['backbone'] != ranks[0]['backbone_before_train']  # and trained
    # the neck's BN running statistics are per rank (no SyncBN); its parameters are synced
    assert ranks[0]['neck_params'] == ranks[1]['neck_params']
    state = torch.load(tmp_path / 'work' / 'iter_2.pth', weights_only=False)['state_dict']
    ckpt = torch.load(tmp_path / 'pretrained.pth')['state_dict']
    frozen = [k for k in state if k.startswith('backbone.') and '.lora.' not in k]
    assert frozen and all(torch.equal(state[k], ckpt[k]) for k in frozen)
