"""LVIS stage 2: ClassifierRetrainHook re-trains only the classifier of a trained detector."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner
from mmdet.registry import MODELS

import mmfrozen  # noqa: F401
from mmfrozen.engine.hooks.classifier_retrain_hook import (ClassifierRetrainHook,
                                                          effective_number_weights)
from mmfrozen.freezing import FreezeSpec, freeze_module
from mmfrozen.freezing.optimizer import optimizer_holds
from mmfrozen.freezing.spec import frozen_parameters
from mmfrozen.testing import make_local_pretrained, tiny_overrides

from ..conftest import CONFIGS
from ..test_evaluation._cases import shrink

LVIS = osp.join(CONFIGS, 'lvis')
STAGE1 = osp.join(LVIS, 'mask-rcnn_r50-frozen_fpn_rfs-ms-1x_lvis-v1.py')
STAGE2 = osp.join(LVIS, 'mask-rcnn_r50-frozen_fpn_stage2-cb-2e_lvis-v1.py')


def tiny(cfg, tiny_coco, work_dir, tmp_path, **kw):
    """The config on the tiny data, with the model shrunk (same structure)."""
    cfg = tiny_overrides(cfg, tiny_coco, str(work_dir), **kw)
    shrink(cfg.model)
    make_local_pretrained(cfg, str(tmp_path / 'pretrained.pth'))
    return cfg


def build(cfg):
    return RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)


@pytest.mark.slow  # trains a tiny Mask R-CNN twice (stage 1, stage 2)
def test_stage2_changes_only_the_classifier(tiny_coco, tmp_path):
    # stage 1: a tiny frozen-backbone LVIS Mask R-CNN, trained a few steps
    cfg1 = tiny(Config.fromfile(STAGE1), tiny_coco, tmp_path / 'stage1', tmp_path,
                max_iters=2, val=False, checkpoint_interval=2)
    build(cfg1).train()
    stage1 = torch.load(tmp_path / 'stage1' / 'iter_2.pth', weights_only=False)['state_dict']

    # stage 2: the repository's stage-2 config, loading that checkpoint
    cfg2 = tiny(Config.fromfile(STAGE2), tiny_coco, tmp_path / 'stage2', tmp_path,
                max_iters=2, val=False, checkpoint_interval=2)
    cfg2.load_from = str(tmp_path / 'stage1' / 'iter_2.pth')
    cfg2.custom_hooks = [dict(type='ClassifierRetrainHook', class_balanced_beta=0.9,
                              check_interval=1)]
    runner = build(cfg2)
    runner.train()
    after = runner.model.state_dict()

    classifier = ('roi_head.bbox_head.fc_cls.weight', 'roi_head.bbox_head.fc_cls.bias')
    changed = sorted(k for k, v in stage1.items() if not torch.equal(v, after[k]))
    assert changed and set(changed) <= set(classifier), changed
    assert 'roi_head.bbox_head.fc_cls.weight' in changed
    # BN statistics, neck, RPN, box regression and mask head all bitwise unchanged
    assert any('running_mean' in k for k in stage1)
    # only the classifier is trainable and in the optimizer
    trainable = sorted(n for n, p in runner.model.named_parameters() if p.requires_grad)
    assert trainable == sorted(classifier)
    optimizer = runner.optim_wrapper.optimizer
    in_optimizer = {id(p) for g in optimizer.param_groups for p in g['params']}
    assert in_optimizer == {id(p) for n, p in runner.model.named_parameters() if n in classifier}
    assert optimizer_holds(optimizer, frozen_parameters(runner.model)) == []

    # class-balanced loss: effective-number weights from the training instance counts
    train = json.load(open(osp.join(tiny_coco.root, tiny_coco.train_ann)))
    counts = np.bincount([a['category_id'] - 1 for a in train['annotations']],
                         minlength=len(tiny_coco.classes))
    w = (1 - 0.9) / (1 - 0.9**counts.astype(float))
    w = w * len(w) / w.sum()
    loss_cls = runner.model.roi_head.bbox_head.loss_cls
    assert loss_cls.class_weight == pytest.approx(list(w) + [1.0])
    assert np.argmax(w) == np.argmin(counts)  # the rarest class weighs most


def test_cascade_stage2_trains_the_classifier_of_every_stage():
    cfg = Config.fromfile(osp.join(LVIS, 'cascade-mask-rcnn_r50-frozen_fpn_rfs-ms-1x_lvis-v1.py'))
    cfg.model.backbone.init_cfg = None
    shrink(cfg.model)
    model = MODELS.build(cfg.model)
    hook = ClassifierRetrainHook()
    report = freeze_module(model, hook.specs[0])
    assert report.trainable_modules == [f'roi_head.bbox_head.{i}.fc_cls' for i in range(3)]
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert sorted(trainable) == sorted(f'roi_head.bbox_head.{i}.fc_cls.{t}'
                                       for i in range(3) for t in ('weight', 'bias'))


def test_bad_arguments():
    with pytest.raises(ValueError, match=r'class_balanced_beta must be in \[0, 1\)'):
        ClassifierRetrainHook(class_balanced_beta=1.0)
    assert effective_number_weights([1, 10, 1000], 0.99).mean() == pytest.approx(1.0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 2))  # no roi_head.bbox_head.fc_cls
    patterns = ClassifierRetrainHook().specs[0].trainable
    with pytest.raises(KeyError, match='no sub-module'):
        freeze_module(model, FreezeSpec(path='', trainable=patterns))
