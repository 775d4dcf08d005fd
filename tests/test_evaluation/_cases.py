"""Tiny LVIS-format cases and an independent LVIS evaluation for the metric tests.

The independent evaluation is plain pycocotools with the LVIS rules applied by hand:
* at most 300 detections per image (highest scores, over all categories);
* federated: a detection counts only where its category is annotated in the image or listed
  in the image's ``neg_category_ids``;
* not exhaustive: a crowd region covering the whole image is added for each category listed in
  ``not_exhaustive_category_ids``; pycocotools matches to it every detection that no real box
  takes (crowd IoU = intersection / detection area = 1) and ignores it, which is LVIS's
  "unmatched detections of a not-exhaustive category are ignored", at every IoU threshold.
"""
import copy
from typing import Dict, List, Tuple

import numpy as np
import pycocotools.mask as mask_utils
import torch
from mmengine.structures import InstanceData
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

SIZE = 100
FREQS = ('r', 'c', 'f')


def _rect(x, y, w, h):
    return [[x, y, x + w, y, x + w, y + h, x, y + h]]


def hand_case() -> Tuple[dict, List[dict], Dict[str, float]]:
    """A case whose LVIS numbers are computed by hand (every box matches exactly or not at all,
    so AP is the same at every IoU threshold).

    Categories: 1 rare, 2 common, 3 frequent, 4 frequent without ground truth (left out).

    * cat 1 (2 gt in image 1): detections by score: .99 in image 3 (cat 1 neither annotated
      nor negative there: dropped), .95 in image 2 (negative there: false positive), .9 exact
      match in image 1. Ranked [FP, TP]: precision 1/2 up to recall 1/2, so
      AP = 51 recall points * 1/2 / 101.
    * cat 2 (1 gt in image 2): .8 in image 1 (negative: FP), .6 exact in image 2: [FP, TP]:
      AP = 101 * 1/2 / 101 = 1/2.
    * cat 3 (3 gt, one per image): .95 unmatched in image 1 (not exhaustive there: ignored),
      .85 unmatched in image 2 (exhaustive: FP), .7 exact in image 1, .4 exact in image 2, .2
      exact in image 3, but image 3 has 300 detections scored above .2 (cat 4, negative there),
      so the 300-per-image limit drops it. Ranked [FP, TP, TP]: recall 2/3 at precision 2/3, so
      AP = 67 recall points (0 .. .66) * 2/3 / 101.
    """
    images = [
        dict(id=1, width=SIZE, height=SIZE, neg_category_ids=[2], not_exhaustive_category_ids=[3]),
        dict(id=2, width=SIZE, height=SIZE, neg_category_ids=[1], not_exhaustive_category_ids=[]),
        dict(id=3, width=SIZE, height=SIZE, neg_category_ids=[2, 4],
             not_exhaustive_category_ids=[]),
    ]
    boxes = {  # (image, category): gt boxes
        (1, 1): [[10, 10, 20, 20], [70, 10, 20, 20]],
        (1, 3): [[50, 50, 30, 30]],
        (2, 2): [[20, 20, 40, 40]],
        (2, 3): [[5, 5, 30, 30]],
        (3, 3): [[10, 60, 30, 30]],
    }
    anns = []
    for (img, cat), bs in boxes.items():
        for b in bs:
            anns.append(dict(id=len(anns) + 1, image_id=img, category_id=cat, bbox=b,
                             area=b[2] * b[3], segmentation=_rect(*b)))
    cats = [dict(id=1, name='rare_a', frequency='r'), dict(id=2, name='common_b', frequency='c'),
            dict(id=3, name='freq_c', frequency='f'), dict(id=4, name='freq_d', frequency='f')]
    gt = dict(images=images, annotations=anns, categories=cats)

    def det(img, cat, box, score):
        return dict(image_id=img, category_id=cat, bbox=[float(v) for v in box], score=score)
    dets = [
        det(3, 1, [40, 40, 10, 10], .99), det(2, 1, [60, 60, 10, 10], .95),
        det(1, 1, [10, 10, 20, 20], .9),
        det(1, 2, [0, 0, 10, 10], .8), det(2, 2, [20, 20, 40, 40], .6),
        det(1, 3, [0, 85, 10, 10], .95), det(2, 3, [70, 0, 20, 20], .85),
        det(1, 3, [50, 50, 30, 30], .7), det(2, 3, [5, 5, 30, 30], .4),
        det(3, 3, [10, 60, 30, 30], .2),
    ]
    dets += [det(3, 4, [70, 0, 10, 10], .3 + i * 1e-4) for i in range(300)]
    ap = {1: 51 * 0.5 / 101, 2: 0.5, 3: 67 * (2 / 3) / 101}
    expected = dict(AP=np.mean(list(ap.values())), AP50=np.mean(list(ap.values())),
                    AP75=np.mean(list(ap.values())), APr=ap[1], APc=ap[2], APf=ap[3])
    return gt, dets, expected


def random_case(seed: int, num_images: int = 10, num_cats: int = 6) -> Tuple[dict, List[dict]]:
    """Random LVIS-format ground truth and detections: jittered boxes and masks (so matching
    depends on the IoU threshold), negative and not-exhaustive lists, one image over 300."""
    rng = np.random.default_rng(seed)
    cats = [dict(id=i + 1, name=f'cat{i}', frequency=FREQS[i % 3]) for i in range(num_cats)]
    images, anns, dets = [], [], []

    def add_det(img, cat, x, y, w, h, score):
        x, y = float(np.clip(x, 0, SIZE - 2)), float(np.clip(y, 0, SIZE - 2))
        w, h = float(np.clip(w, 1, SIZE - x)), float(np.clip(h, 1, SIZE - y))
        m = np.zeros((SIZE, SIZE), dtype=np.uint8)
        m[int(y):int(np.ceil(y + h)), int(x):int(np.ceil(x + w))] = 1
        rle = mask_utils.encode(np.asfortranarray(m))
        rle['counts'] = rle['counts'].decode()
        dets.append(dict(image_id=img, category_id=cat, bbox=[x, y, w, h], score=score,
                         segmentation=rle))

    for img in range(1, num_images + 1):
        present = set()
        for _ in range(int(rng.integers(1, 5))):
            cat = int(rng.integers(1, num_cats + 1))
            present.add(cat)
            w, h = rng.uniform(4, 60, 2)
            x, y = rng.uniform(0, SIZE - w), rng.uniform(0, SIZE - h)
            anns.append(dict(id=len(anns) + 1, image_id=img, category_id=cat,
                             bbox=[float(x), float(y), float(w), float(h)], area=float(w * h),
                             segmentation=_rect(float(x), float(y), float(w), float(h))))
            for _ in range(int(rng.integers(0, 3))):
                j = rng.normal(0, 4, 4)
                c = cat if rng.random() < .8 else int(rng.integers(1, num_cats + 1))
                add_det(img, c, x + j[0], y + j[1], w + j[2], h + j[3], float(rng.random()))
        absent = [c for c in range(1, num_cats + 1) if c not in present]
        rng.shuffle(absent)
        images.append(dict(id=img, width=SIZE, height=SIZE,
                           neg_category_ids=[int(c) for c in absent[:len(absent) // 2]],
                           not_exhaustive_category_ids=[c for c in sorted(present)
                                                        if rng.random() < .4]))
        for _ in range(int(rng.integers(0, 6))):
            w, h = rng.uniform(4, 60, 2)
            add_det(img, int(rng.integers(1, num_cats + 1)), *rng.uniform(0, SIZE - 60, 2), w, h,
                    float(rng.random()))
    for _ in range(310):  # image 1 goes over the 300-per-image limit
        w, h = rng.uniform(4, 60, 2)
        add_det(1, int(rng.integers(1, num_cats + 1)), *rng.uniform(0, SIZE - 60, 2), w, h,
                float(rng.random()))
    return dict(images=images, annotations=anns, categories=cats), dets


def categories_out_of_id_order(gt: dict) -> dict:
    """The same annotation file with its categories listed in reverse id order, as a custom
    dataset may list them: the evaluators sort the ids, so file order and evaluation order
    differ (with ``random_case``'s r/c/f in turn, the first and last buckets trade places)."""
    gt = copy.deepcopy(gt)
    gt['categories'] = sorted(gt['categories'], key=lambda c: -c['id'])
    return gt


def _federated_eval(gt: dict, dets: List[dict], iou_type: str, max_dets: int) -> COCOeval:
    """pycocotools' evaluation (evaluated and accumulated) with the LVIS rules by hand."""
    by_img: Dict[int, List[dict]] = {}
    for d in dets:
        by_img.setdefault(d['image_id'], []).append(d)
    kept = []
    for img_dets in by_img.values():
        order = np.argsort([-d['score'] for d in img_dets], kind='stable')
        kept += [img_dets[i] for i in order[:max_dets]]
    labelled = {(a['image_id'], a['category_id']) for a in gt['annotations']}
    labelled |= {(img['id'], c) for img in gt['images'] for c in img['neg_category_ids']}
    kept = [copy.deepcopy(d) for d in kept if (d['image_id'], d['category_id']) in labelled]
    for d in kept:
        d.pop('bbox' if iou_type == 'segm' else 'segmentation', None)

    gt = copy.deepcopy(gt)
    for a in gt['annotations']:
        a['iscrowd'] = 0
    for img in gt['images']:
        for c in img['not_exhaustive_category_ids']:
            w, h = img['width'], img['height']
            gt['annotations'].append(dict(id=len(gt['annotations']) + 1, image_id=img['id'],
                                          category_id=c, bbox=[0, 0, w, h], area=w * h,
                                          iscrowd=1, segmentation=_rect(0, 0, w, h)))
    coco = COCO()
    coco.dataset = gt
    coco.createIndex()
    ev = COCOeval(coco, coco.loadRes(kept), iou_type)
    ev.params.maxDets = [max_dets]
    ev.evaluate()
    ev.accumulate()
    return ev


def federated_category_ap(gt: dict, dets: List[dict], iou_type: str,
                          max_dets: int = 300) -> Dict[int, float]:
    """AP (IoU .50:.95, all areas) of each category id, NaN without ground truth."""
    ev = _federated_eval(gt, dets, iou_type, max_dets)
    out = {}
    for k, cat in enumerate(ev.params.catIds):
        p = ev.eval['precision'][:, :, k, 0, 0]
        out[cat] = float(p[p > -1].mean()) if (p > -1).any() else float('nan')
    return out


def federated_pycocotools(gt: dict, dets: List[dict], iou_type: str,
                          max_dets: int = 300) -> Dict[str, float]:
    """LVIS AP, AP50, AP75, APs/m/l and APr/c/f by pycocotools with the LVIS rules by hand."""
    ev = _federated_eval(gt, dets, iou_type, max_dets)
    prec = ev.eval['precision']  # [T, R, K, A, M]

    def cat_ap(k, t=slice(None), a=0):
        p = prec[t, :, k, a, 0]
        p = p[p > -1]
        return p.mean() if p.size else np.nan

    cats = ev.params.catIds
    freq = {c['id']: c['frequency'] for c in gt['categories']}
    t50 = int(np.argmin(np.abs(ev.params.iouThrs - .5)))
    t75 = int(np.argmin(np.abs(ev.params.iouThrs - .75)))
    out = {}
    for name, kw in (('AP', {}), ('AP50', dict(t=[t50])), ('AP75', dict(t=[t75])),
                     ('APs', dict(a=1)), ('APm', dict(a=2)), ('APl', dict(a=3))):
        vals = [v for v in (cat_ap(k, **kw) for k in range(len(cats))) if not np.isnan(v)]
        out[name] = float(np.mean(vals)) if vals else -1.0  # -1: no ground truth in that range
    for b in FREQS:
        vals = [cat_ap(k) for k, c in enumerate(cats) if freq[c] == b]
        vals = [v for v in vals if not np.isnan(v)]
        out[f'AP{b}'] = float(np.mean(vals)) if vals else -1.0
    return out


def data_samples(dets: List[dict], cat_ids: List[int], image_ids: List[int]) -> List[dict]:
    """The detections as mmdet data samples (xyxy boxes, 0-based labels, and masks where the
    detections carry RLE segmentations), one per image."""
    samples = []
    for img in image_ids:
        mine = [d for d in dets if d['image_id'] == img]
        pred = InstanceData()
        pred.bboxes = torch.tensor([[d['bbox'][0], d['bbox'][1], d['bbox'][0] + d['bbox'][2],
                                     d['bbox'][1] + d['bbox'][3]] for d in mine],
                                   dtype=torch.float32).reshape(-1, 4)
        pred.scores = torch.tensor([d['score'] for d in mine], dtype=torch.float32)
        pred.labels = torch.tensor([cat_ids.index(d['category_id']) for d in mine],
                                   dtype=torch.long)
        if dets and all('segmentation' in d for d in dets):
            masks = [mask_utils.decode(d['segmentation']) for d in mine]
            pred.masks = torch.from_numpy(np.array(masks, dtype=bool).reshape(-1, SIZE, SIZE))
        samples.append(dict(img_id=img, ori_shape=(SIZE, SIZE), pred_instances=pred.to_dict()))
    return samples


def tiny_lvis(tiny_coco, name: str = 'val') -> str:
    """Rewrite a split of ``make_tiny_coco`` data in LVIS v1 format; return the file path.

    Every category absent from an image is in its ``neg_category_ids`` (exhaustive labels), no
    category is not-exhaustive, ``coco_url`` carries the file name as in LVIS v1, and the
    categories are rare/common/frequent in turn.
    """
    import json
    import os.path as osp
    src = osp.join(tiny_coco.root, getattr(tiny_coco, f'{name}_ann'))
    data = json.load(open(src))
    cat_ids = [c['id'] for c in data['categories']]
    present: Dict[int, set] = {}
    for a in data['annotations']:
        present.setdefault(a['image_id'], set()).add(a['category_id'])
    for img in data['images']:
        img['coco_url'] = 'http://images.cocodataset.org/' + tiny_coco.img_prefix + img['file_name']
        img['neg_category_ids'] = [c for c in cat_ids if c not in present.get(img['id'], ())]
        img['not_exhaustive_category_ids'] = []
    for i, c in enumerate(data['categories']):
        c['frequency'] = FREQS[i % 3]
    out = osp.join(tiny_coco.root, f'lvis_{name}.json')
    with open(out, 'w') as f:
        json.dump(data, f)
    return out


def shrink(model_cfg):
    """Same detector structure, tiny: ResNet-18 of 8 base channels, 32-channel neck and heads,
    64-wide fully connected layers, 64 sampled RoIs."""
    model_cfg.backbone.update(depth=18, base_channels=8)
    model_cfg.neck.in_channels = [8, 16, 32, 64]

    def walk(node):
        if isinstance(node, dict):
            for key in ('in_channels', 'feat_channels', 'out_channels', 'conv_out_channels'):
                if node.get(key) == 256:
                    node[key] = 32
            if 'fc_out_channels' in node:
                node['fc_out_channels'] = 64
            if node.get('type') == 'RandomSampler' and node.get('num', 0) > 64:
                node['num'] = 64
            for v in node.values():
                walk(v)
        elif isinstance(node, (list, tuple)):
            for v in node:
                walk(v)
    for key in ('neck', 'rpn_head', 'roi_head', 'train_cfg'):
        walk(model_cfg[key])
