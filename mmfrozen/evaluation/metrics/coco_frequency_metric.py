"""``CocoFrequencyMetric``: COCO AP plus LVIS-style AP per frequency bucket (APr/APc/APf).

Used to check the rare-class claim of "Proper Reuse of Image Classification Features Improves
Object Detection" (Vasconcelos, Birodkar, Dumoulin, CVPR 2022) on any COCO-format dataset whose
categories carry an LVIS-style ``frequency`` (the mini-study's generated data, for example).
"""
import contextlib
import io
from typing import Dict, Iterator, List, Optional, Union

import numpy as np
from mmengine.logging import MMLogger
from mmdet.datasets.api_wrappers import COCOeval
from mmdet.evaluation.metrics import CocoMetric
from mmdet.evaluation.metrics import coco_metric as _coco_metric
from mmdet.registry import METRICS

from ..functional import (FREQUENCY_BUCKETS, category_frequencies, frequency_bucket_ap,
                          per_category_ap)


@METRICS.register_module()
class CocoFrequencyMetric(CocoMetric):
    """COCO evaluation (pycocotools) that also reports AP per LVIS frequency bucket.

    Reports everything :class:`mmdet.evaluation.CocoMetric` reports (``coco/bbox_mAP``,
    ``coco/bbox_mAP_50``, ...) plus ``coco/bbox_APr``, ``coco/bbox_APc`` and ``coco/bbox_APf``
    (``segm_`` likewise): the mean, over the categories of a bucket that have ground truth, of
    their AP at IoU .50:.95 over all areas, with the same detections-per-image limit as ``mAP``
    (100). A bucket with no such category reports -1.0. Numbers are rounded to 3 decimals like
    CocoMetric's.

    The buckets are read from the same evaluation that gives ``mAP`` (one evaluation per IoU
    type). ``backend='faster-coco-eval'`` runs that evaluation with faster-coco-eval's C++
    ``COCOeval_faster`` (same algorithm and results as pycocotools, about 15x faster; the tests
    check the two agree), which matters when a run validates often.

    With ``classwise=True`` the per-class AP that the buckets average is reported as
    ``coco/bbox_<name>_precision`` (``segm_`` likewise; NaN for a class without ground truth).
    CocoMetric's own classwise keys (``coco/<name>_precision`` in mmdet 3.3, read at 1000
    detections per image, segm overwriting bbox) are left as CocoMetric makes them.

    The bucket of each category is the ``frequency`` field (``'r'``, ``'c'`` or ``'f'``) of the
    categories of ``ann_file``, as in LVIS annotation files.

    Args:
        ann_file: COCO-format annotation file whose categories carry ``frequency``.
        metric: ``'bbox'``, ``'segm'`` or a list of them (``'proposal'`` and
            ``'proposal_fast'`` are passed through to CocoMetric, without buckets).
        classwise: Also report per-class AP (CocoMetric's ``<name>_precision`` keys).
        backend: ``'pycocotools'`` (default) or ``'faster-coco-eval'``: the COCOeval
            implementation that evaluates.
        **kwargs: Any other :class:`~mmdet.evaluation.CocoMetric` argument.

    Example::

        val_evaluator = dict(type='CocoFrequencyMetric', ann_file='data/x/val.json',
                             metric=['bbox', 'segm'], classwise=False)
    """

    #: Detections per image at which the per-category AP is read (that of CocoMetric's mAP).
    AP_MAX_DETS = 100
    BACKENDS = ('pycocotools', 'faster-coco-eval')

    def __init__(self,
                 ann_file: str,
                 metric: Union[str, List[str]] = 'bbox',
                 classwise: bool = False,
                 backend: str = 'pycocotools',
                 **kwargs) -> None:
        if backend not in self.BACKENDS:
            raise ValueError(f'CocoFrequencyMetric: backend must be one of {self.BACKENDS}, got '
                             f'{backend!r}')
        self.backend = backend
        if ann_file is None:
            raise ValueError('CocoFrequencyMetric needs ann_file: the frequency buckets are read '
                             "from the 'frequency' field of its categories.")
        super().__init__(ann_file=ann_file, metric=metric, classwise=classwise, **kwargs)
        self.ann_file = ann_file
        # fail at build time, not after a whole epoch of training: every category now, or, when
        # some have no frequency, those the dataset evaluates once its classes are known
        if all('frequency' in c for c in self._coco_api.cats.values()):
            category_frequencies(self._coco_api.cats, sorted(self._coco_api.cats), ann_file)
        if self.AP_MAX_DETS not in self.proposal_nums:
            raise ValueError(f'CocoFrequencyMetric reads AP at {self.AP_MAX_DETS} detections per '
                             f'image; proposal_nums={self.proposal_nums} must contain it.')

    @property
    def dataset_meta(self) -> Optional[dict]:
        """The dataset's meta info; setting it checks the ``frequency`` of the categories its
        ``classes`` evaluate (the Runner sets it when it builds the validation loop)."""
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, dataset_meta: Optional[dict]) -> None:
        self._dataset_meta = dataset_meta
        classes = (dataset_meta or {}).get('classes')
        # as CocoMetric picks the evaluated categories
        cat_ids = (self._coco_api.get_cat_ids(cat_names=classes) if classes else
                   sorted(self._coco_api.cats))
        category_frequencies(self._coco_api.cats, cat_ids, self.ann_file)

    def _coco_eval_class(self) -> type:
        if self.backend == 'faster-coco-eval':
            from faster_coco_eval import COCOeval_faster
            return COCOeval_faster
        return COCOeval

    @contextlib.contextmanager
    def _recorded_evaluations(self) -> Iterator[list]:
        """Make CocoMetric evaluate with this metric's backend and keep each evaluation.

        mmdet's ``CocoMetric.compute_metrics`` builds its ``COCOeval`` from its module's global
        name and drops it after reading ``stats``; for the time of one call that name is bound to
        a subclass of the backend that records every instance, so the buckets are read from the
        very evaluation that gives ``mAP``.
        """
        made: list = []
        base = self._coco_eval_class()

        class Recorded(base):  # type: ignore[misc, valid-type]

            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                made.append(self)

        original = _coco_metric.COCOeval
        _coco_metric.COCOeval = Recorded
        try:
            yield made
        finally:
            _coco_metric.COCOeval = original

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """CocoMetric's metrics, then ``<metric>_APr/APc/APf`` for bbox and segm."""
        with self._recorded_evaluations() as evaluations:
            eval_results = super().compute_metrics(results)
        if self.format_only:
            return eval_results
        iou_types = [m for m in self.metrics if m in ('bbox', 'segm')]
        if not iou_types:
            return eval_results
        logger: MMLogger = MMLogger.get_current_instance()
        by_type = {e.params.iouType: e for e in evaluations if e.params.useCats}
        for iou_type in iou_types:
            if iou_type not in by_type:
                logger.error(f'CocoFrequencyMetric: no {iou_type} detections at all, so no '
                             f'{iou_type}_APr/APc/APf (CocoMetric reports no mAP either).')
                continue
            buckets = self.buckets_of(by_type[iou_type])
            counts = buckets.pop('num_categories')
            category_ap = buckets.pop('category_ap')
            for name, value in buckets.items():
                eval_results[f'{iou_type}_{name}'] = float(f'{round(value, 3)}')
            if self.classwise:
                for cat_id, ap in category_ap.items():
                    name = self._coco_api.cats[cat_id]['name']
                    eval_results[f'{iou_type}_{name}_precision'] = round(ap, 3)
            logger.info(f'{iou_type} AP by frequency bucket (categories with ground truth): ' +
                        ', '.join(f'AP{b}={buckets["AP" + b]:.3f} ({counts[b]})'
                                  for b in FREQUENCY_BUCKETS))
        return eval_results

    def bucket_ap(self, predictions: List[dict], iou_type: str) -> Optional[dict]:
        """AP per frequency bucket for COCO-format ``predictions``, evaluated on their own.

        Returns:
            What :meth:`buckets_of` returns, or None when there are no predictions (pycocotools
            cannot load an empty result list).
        """
        if not predictions:
            return None
        if iou_type == 'segm':
            # mask area, not box area, decides small/medium/large (as CocoMetric does)
            for p in predictions:
                p.pop('bbox', None)
        coco_eval = self._coco_eval_class()(self._coco_api, self._coco_api.loadRes(predictions),
                                            iou_type)
        coco_eval.params.catIds = self.cat_ids
        coco_eval.params.imgIds = self.img_ids
        coco_eval.params.maxDets = list(self.proposal_nums)
        coco_eval.params.iouThrs = self.iou_thrs
        with contextlib.redirect_stdout(io.StringIO()):
            coco_eval.evaluate()
            coco_eval.accumulate()
        return self.buckets_of(coco_eval)

    def buckets_of(self, coco_eval) -> dict:
        """AP per frequency bucket of an evaluated and accumulated ``COCOeval``, unrounded.

        Returns:
            ``{'APr', 'APc', 'APf', 'num_categories': {bucket: count of categories with ground
            truth}, 'category_ap': {category id: AP (NaN: no ground truth)}}``.
        """
        m = list(coco_eval.params.maxDets).index(self.AP_MAX_DETS)
        ap = per_category_ap(coco_eval.eval['precision'], area_index=0, max_det_index=m)
        # pycocotools sorts params.catIds in evaluate(): that is the order of the precision array
        cat_ids = list(coco_eval.params.catIds)
        freqs = category_frequencies(self._coco_api.cats, cat_ids, self.ann_file)
        out: dict = frequency_bucket_ap(ap, freqs)
        out['category_ap'] = {c: float(a) for c, a in zip(cat_ids, ap)}
        out['num_categories'] = {
            b: int(sum(f == b and not np.isnan(a) for a, f in zip(ap, freqs)))
            for b in FREQUENCY_BUCKETS
        }
        return out
