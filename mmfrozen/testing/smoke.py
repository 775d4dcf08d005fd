"""One training step and one predict step of any config's real model on a tiny synthetic batch.

Used by the all-configs test: the model is built from the config as a run builds it (custom
imports, registries, the freeze of its freeze hooks), only pretrained loading is switched off
and fixed-size batch padding shrunk to the tiny input, so no download and no dataset is needed.
"""
import copy
from dataclasses import dataclass
from typing import Any, Dict, List

import torch
from mmengine.config import Config

from ..config.edits import disable_pretrained, set_image_scale
from ..engine.frozen_model import build_frozen_model, build_frozen_optim_wrapper
from ..freezing.spec import frozen_parameters
from ..sweep import expand_sweep_config


def shrink_sampling(cfg: Config, rois: int = 16) -> None:
    """Keep at most ``rois`` proposals, sampled RoIs and detections per image (train and test).

    A 4conv RoI head costs ~30 GFLOP per 512 RoIs and stage; on a tiny input a handful of RoIs
    exercises the same code. LVIS test settings keep 300 detections per image, whose masks over
    1203 classes and three cascade stages take gigabytes. Architecture and losses are unchanged.
    """
    def walk(node: Any, key: str = '') -> None:
        if isinstance(node, dict):
            if key in ('rpn', 'rpn_proposal') and 'max_per_img' in node:
                node['max_per_img'] = rois
                node['nms_pre'] = min(node.get('nms_pre', 4 * rois), 4 * rois)
            if key == 'rcnn' and 'max_per_img' in node:
                node['max_per_img'] = min(node['max_per_img'], rois)
            if key == 'sampler' and 'num' in node:
                node['num'] = rois
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, (list, tuple)):
            for v in node:
                walk(v, key)

    walk(cfg.model)  # train_cfg and test_cfg, also those of a sweep's members


@dataclass
class SmokeResult:
    """What one train step and one predict step produced."""
    loss: float
    losses: Dict[str, float]
    trainable_without_grad: List[str]
    frozen_with_grad: List[str]
    predictions: List[Any]


def _detection_batch(with_mask: bool, num_images: int, size: int) -> dict:
    from mmdet.testing import demo_mm_inputs
    return demo_mm_inputs(batch_size=num_images, image_shapes=[(3, size, size)] * num_images,
                          num_items=[3] * num_images, num_classes=3, with_mask=with_mask)


def _classification_batch(num_images: int, size: int) -> dict:
    from mmpretrain.structures import DataSample
    gen = torch.Generator().manual_seed(0)
    inputs = [torch.randint(0, 255, (3, size, size), generator=gen, dtype=torch.uint8)
              for _ in range(num_images)]
    samples = [DataSample().set_gt_label(i % 2) for i in range(num_images)]
    return dict(inputs=inputs, data_samples=samples)


def amp_as_plain_without_cuda(optim_wrapper: dict) -> dict:
    """``optim_wrapper``, with mmengine's ``AmpOptimWrapper`` (which refuses to build without a
    GPU) replaced by the plain ``OptimWrapper`` when no CUDA device is present: the same
    optimizer, constructor and parameter groups, without the loss scaling."""
    if optim_wrapper.get('type') != 'AmpOptimWrapper' or torch.cuda.is_available():
        return optim_wrapper
    amp_only = ('loss_scale', 'dtype', 'use_fsdp')
    return dict({k: v for k, v in optim_wrapper.items() if k not in amp_only},
                type='OptimWrapper')


def smoke_step(cfg: Config, num_images: int = 2, size: int = 128) -> SmokeResult:
    """Build ``cfg``'s model (pretrained off) and its optimizer as a run does (on a machine
    without CUDA, an ``AmpOptimWrapper`` as the plain wrapper), run loss + backward + one
    optimizer step, then predict.

    Detectors get mmdet's ``demo_mm_inputs`` (boxes, and masks for a model with a mask head);
    mmpretrain classifiers get random images with labels.
    """
    cfg = copy.deepcopy(cfg)
    expand_sweep_config(cfg)  # a sweep's members inline, so that the edits reach them
    disable_pretrained(cfg)
    set_image_scale(cfg, (size, size))
    shrink_sampling(cfg)
    model = build_frozen_model(cfg.model, cfg.get('custom_hooks'), check_pretrained=False,
                               default_scope=cfg.get('default_scope', 'mmdet'))
    frozen = set(frozen_parameters(model))
    optim_wrapper = build_frozen_optim_wrapper(model, amp_as_plain_without_cuda(cfg.optim_wrapper))
    model.train()
    if cfg.get('default_scope') == 'mmpretrain' or cfg.model.get('type') == 'ImageClassifier':
        data = _classification_batch(num_images, size)
    else:
        data = _detection_batch(bool(getattr(model, 'with_mask', False)), num_images, size)
    batch = model.data_preprocessor(copy.deepcopy(data), True)
    losses = model(**batch, mode='loss')
    loss, log_vars = model.parse_losses(losses)
    loss.backward()
    no_grad = [n for n, p in model.named_parameters()
               if p.requires_grad and (p.grad is None or not torch.isfinite(p.grad).all())]
    leaked = [n for n, p in model.named_parameters() if n in frozen and p.grad is not None]
    optim_wrapper.step()  # the run's optimizer (constructor, parameter groups) steps once
    optim_wrapper.zero_grad()
    model.eval()
    with torch.no_grad():
        preds = model(**model.data_preprocessor(copy.deepcopy(data), False), mode='predict')
    scalars = {k: float(torch.as_tensor(v).detach()) for k, v in log_vars.items()}
    return SmokeResult(float(loss.detach()), scalars, no_grad, leaked, list(preds))
