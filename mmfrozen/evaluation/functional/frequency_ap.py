"""Per-category AP and LVIS frequency-bucket AP from a COCO-style precision array.

LVIS (Gupta, Dollar, Girshick, CVPR 2019) splits categories by the number of training images
they appear in: rare ``'r'`` (1-10), common ``'c'`` (11-100), frequent ``'f'`` (>100), stored
as the ``frequency`` field of each category. APr/APc/APf are the mean over the categories of a
bucket of their AP at IoU .50:.95 (all areas); a category without ground truth in the evaluated
images has no AP and is left out, as in the LVIS reference implementation.
"""
from collections import defaultdict
from typing import Dict, List, Mapping, Sequence

import numpy as np

#: LVIS frequency buckets, in the order LVIS reports them.
FREQUENCY_BUCKETS = ('r', 'c', 'f')


def per_category_ap(precision: np.ndarray, area_index: int = 0,
                    max_det_index: int = -1) -> np.ndarray:
    """AP of each category, averaged over IoU thresholds and recall thresholds.

    Args:
        precision: ``eval['precision']`` of pycocotools (or faster-coco-eval):
            ``[iou thresholds, recall thresholds, categories, area ranges, max dets]``.
        area_index: Area range to read (0 is ``'all'``).
        max_det_index: Index into ``params.maxDets``.

    Returns:
        One value per category; NaN where the category has no ground truth.
    """
    if precision.ndim != 5:
        raise ValueError(f'expected a [T, R, K, A, M] precision array, got shape {precision.shape}')
    p = precision[:, :, :, area_index, max_det_index]  # [T, R, K]
    out = np.full(p.shape[2], np.nan)
    for k in range(p.shape[2]):
        valid = p[:, :, k][p[:, :, k] > -1]
        if valid.size:
            out[k] = float(valid.mean())
    return out


def frequency_bucket_ap(category_ap: Sequence[float],
                        frequencies: Sequence[str]) -> Dict[str, float]:
    """Mean AP of each LVIS frequency bucket.

    Args:
        category_ap: AP per category (NaN: no ground truth, left out).
        frequencies: ``'r'``, ``'c'`` or ``'f'`` per category, same order.

    Returns:
        ``{'APr': ..., 'APc': ..., 'APf': ...}``; -1.0 for a bucket without any category that
        has ground truth (the pycocotools/LVIS convention for "not defined").
    """
    if len(category_ap) != len(frequencies):
        raise ValueError(f'{len(category_ap)} category APs but {len(frequencies)} frequencies')
    groups: Dict[str, List[float]] = defaultdict(list)
    for ap, freq in zip(category_ap, frequencies):
        if freq not in FREQUENCY_BUCKETS:
            raise ValueError(f"frequency must be one of {FREQUENCY_BUCKETS}, got {freq!r}")
        if not np.isnan(ap):
            groups[freq].append(float(ap))
    return {f'AP{b}': float(np.mean(groups[b])) if groups[b] else -1.0 for b in FREQUENCY_BUCKETS}


def category_frequencies(categories: Mapping[int, dict], cat_ids: Sequence[int],
                         source: str) -> List[str]:
    """The LVIS ``frequency`` of each category id, checked.

    Args:
        categories: Category records by id, as in ``COCO.cats``.
        cat_ids: Ids to look up, in evaluation order.
        source: Name of the annotation file, for the error message.

    Raises:
        ValueError: a category has no ``frequency`` or an unknown one.
    """
    out = []
    for cat_id in cat_ids:
        cat = categories[cat_id]
        freq = cat.get('frequency')
        if freq not in FREQUENCY_BUCKETS:
            raise ValueError(
                f"category {cat_id} ({cat.get('name')!r}) in {source} has frequency={freq!r}; "
                f"frequency-bucket AP needs an LVIS-style 'frequency' of {FREQUENCY_BUCKETS} on "
                'every category (rare: 1-10 training images, common: 11-100, frequent: >100). '
                'Add it to the annotation file, or use CocoMetric for plain COCO AP.')
        out.append(freq)
    return out


def limit_dets_per_image(dets: List[dict], max_dets: int) -> List[dict]:
    """Keep the ``max_dets`` highest-scoring detections of each image (LVIS: 300).

    Applied across categories, before evaluation, as the LVIS reference's ``LVISResults`` does
    (images at or under the limit keep their order; ties keep the input order).
    """
    if max_dets < 0:
        return list(dets)
    by_image: Dict[int, List[dict]] = defaultdict(list)
    for d in dets:
        by_image[d['image_id']].append(d)
    kept = []
    for img_dets in by_image.values():
        if len(img_dets) > max_dets:
            img_dets = sorted(img_dets, key=lambda d: d['score'], reverse=True)[:max_dets]
        kept += img_dets
    return kept
