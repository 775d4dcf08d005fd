"""Every config under configs/: naming, mode, twins, and a real train + predict step.

Configs are discovered with glob (all folders, other packages' configs included); only the
``_base_`` fragments are skipped. The smoke test (a fine-tuned config through its plain frozen
twin, which builds the same model) builds each config's real model with pretrained loading
switched off (test only) and its optimizer as a run builds it, then runs loss + backward, one
optimizer step and predict on two synthetic 128x128 images.
"""
import functools
import glob
import math
import os.path as osp

import pytest
from mmengine.config import Config

import mmfrozen  # noqa: F401
from mmfrozen.config import MODES, ConfigName, config_mode, dataset_repeats
from mmfrozen.sweep import is_sweep_config
from mmfrozen.testing.smoke import smoke_step

from .conftest import CONFIGS

ALL = sorted(p for p in glob.glob(osp.join(CONFIGS, '**', '*.py'), recursive=True)
             if '_base_' not in osp.relpath(p, CONFIGS).split(osp.sep))
IDS = [osp.relpath(p, CONFIGS) for p in ALL]

# keys in which a frozen config may differ from its fine-tuned twin
FREEZE_KEYS = ('custom_imports', 'runner_type', 'custom_hooks', 'adapter_cfg',
               'model.backbone.type', 'model.backbone.adapter_cfg', 'model.backbone.lora_cfg')
# keys in which a from-scratch config may differ from its fine-tuned twin
SCRATCH_KEYS = ('norm_cfg', 'model.backbone.init_cfg', 'model.backbone.norm_cfg',
                'model.backbone.frozen_stages', 'model.backbone.norm_eval',
                'model.backbone.zero_init_residual', 'model.neck.norm_cfg',
                'optim_wrapper.paramwise_cfg')


def name_mode(path):
    name = ConfigName.parse(osp.basename(path))
    return name.mode if name else None


def twin_of(path):
    return osp.join(osp.dirname(path), ConfigName.parse(osp.basename(path)).twin + '.py')


@functools.lru_cache(maxsize=None)
def load(path):
    return Config.fromfile(path)


def flatten(node, prefix=''):
    out = {}
    if isinstance(node, dict):
        for k, v in node.items():
            out.update(flatten(v, f'{prefix}.{k}' if prefix else str(k)))
        if not node:
            out[prefix] = {}
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            out.update(flatten(v, f'{prefix}.{i}'))
        if not node:
            out[prefix] = []
    else:
        out[prefix] = node
    return out


def differing_keys(a, b):
    fa, fb = flatten(a.to_dict()), flatten(b.to_dict())
    return sorted(k for k in set(fa) | set(fb) if fa.get(k, '<absent>') != fb.get(k, '<absent>'))


def allowed(key, prefixes):
    return any(key == p or key.startswith(p + '.') for p in prefixes)


def test_the_matrix_is_complete():
    mine = [p for p in ALL if name_mode(p)]
    assert len(ALL) >= 60, len(ALL)
    modes = {name_mode(p) for p in mine}
    assert modes == set(MODES)
    names = ' '.join(osp.basename(p) for p in ALL)
    for part in ('faster-rcnn_', 'mask-rcnn_', 'cascade-mask-rcnn_', 'cascade-rcnn_',
                 'retinanet_', '_fpn_', '_nasfpn_', '_bifpn-', '_1x_', '_ms-3x_', '_lsj-72e_',
                 '_lsj-600e_', '_r50-', '_r101-', '_convnext-t-'):
        assert part in names, part


@pytest.mark.parametrize('path', ALL, ids=IDS)
def test_mode_in_name_is_the_mode_of_the_config(path):
    mode = name_mode(path)
    if mode is None:
        pytest.skip(f'{osp.basename(path)} carries no mode token (not a detector twin)')
    cfg = load(path)
    if cfg.get('load_from'):
        pytest.skip('starts from a trained detector (load_from): the mode in its name is that '
                    'of the run it continues')
    assert config_mode(cfg) == mode


@pytest.mark.parametrize('path', [p for p in ALL if name_mode(p)],
                         ids=[osp.relpath(p, CONFIGS) for p in ALL if name_mode(p)])
def test_schedule_in_name_is_what_the_config_trains(path):
    """``1x`` trains 12 epochs (mmdet's ``3x``/LSJ: fewer epochs of a repeated dataset),
    ``450it`` 450 iterations, ``1xb8`` 8 images per GPU: the results table reports a name's
    schedule only where the run's config trains it."""
    cfg, name = load(path), ConfigName.parse(osp.basename(path))
    loop = cfg.get('train_cfg') or {}
    by_epoch = loop.get('type', 'EpochBasedTrainLoop').rsplit('.', 1)[-1] == \
        'EpochBasedTrainLoop'
    claims = name.claims
    assert claims.epochs or claims.iters, f'{name.schedule!r} states no training length'
    assert claims.disagreements(by_epoch, loop.get('max_epochs'), loop.get('max_iters'),
                                cfg.train_dataloader.batch_size,
                                dataset_repeats(cfg.train_dataloader)) == []


@pytest.mark.parametrize('path', [p for p in ALL if name_mode(p) not in (None, 'ft')],
                         ids=[i for p, i in zip(ALL, IDS) if name_mode(p) not in (None, 'ft')])
def test_twin_differs_only_in_freeze_or_capacity_keys(path):
    if is_sweep_config(load(path)):
        pytest.skip('a sweep has no fine-tuned twin of its own; each of its members has one')
    twin = twin_of(path)
    assert osp.exists(twin), f'{osp.basename(path)} has no fine-tuned twin {osp.basename(twin)}'
    keys = differing_keys(load(path), load(twin))
    assert keys, 'identical to its twin'
    cfg = load(path)
    ok = FREEZE_KEYS if name_mode(path).startswith('frozen') else SCRATCH_KEYS
    if cfg.get('load_from'):
        # continues a trained twin run (e.g. LVIS stage 2): it loads that run's checkpoint, and
        # top-level variables that only name that run may differ as well
        ok += ('load_from', ) + tuple(k for k, v in cfg.items()
                                      if isinstance(v, str) and v in cfg.load_from)
    extra = [k for k in keys if not allowed(k, ok) and not added_part_optimizer_key(k)]
    assert extra == [], f'differs from {osp.basename(twin)} outside {ok}: {extra}'


def added_part_optimizer_key(key):
    """An optimizer setting of the trained parts a frozen config adds to its backbone (adapters,
    LoRA): e.g. ``custom_keys={'.adapter.': dict(lr_mult=1.0)}``."""
    prefix = 'optim_wrapper.paramwise_cfg.custom_keys.'
    return key.startswith(prefix) and any(p in key[len(prefix):] for p in ('adapter', 'lora'))


# A fine-tuned config with a plain frozen twin builds the same model (the twin test above allows
# only the freeze keys to differ): its twin's smoke step covers it, and the suite stays short.
SMOKE = [p for p in ALL if p not in {twin_of(q) for q in ALL if name_mode(q) == 'frozen'}]


@pytest.mark.slow
@pytest.mark.parametrize('path', SMOKE, ids=[osp.relpath(p, CONFIGS) for p in SMOKE])
def test_config_builds_trains_and_predicts(path):
    result = smoke_step(load(path))
    assert math.isfinite(result.loss) and result.loss > 0, result.losses
    assert result.trainable_without_grad == []
    assert result.frozen_with_grad == []
    assert len(result.predictions) == 2
