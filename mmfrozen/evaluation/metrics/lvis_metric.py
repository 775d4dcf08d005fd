"""``mmfrozen.LVISMetric``: LVIS v1 federated evaluation that works with numpy 2.

mmdet's ``LVISMetric`` evaluates with the ``lvis`` package (0.5.3), whose ``LVISEval`` uses
``np.float``, removed from numpy; LVIS evaluation fails on a current stack. This metric keeps
mmdet's arguments, metrics and result keys (``lvis/bbox_AP``, ``lvis/bbox_APr``, ...,
``lvis/<class>_precision``, ``lvis/AR@300``) and evaluates with faster-coco-eval's LVIS mode
(maintained, numpy 2, C++), with the LVIS rules:

* federated evaluation: a detection of category c in image i counts only if c is annotated in
  i or listed in i's ``neg_category_ids``; otherwise it is dropped;
* an unmatched detection of a category in i's ``not_exhaustive_category_ids`` is ignored;
* at most 300 detections per image, the highest-scoring ones over all categories;
* APr/APc/APf: mean AP (IoU .50:.95) over the rare/common/frequent categories.

It is registered in the ``mmfrozen`` scope under mmdet's name, so a config chooses it with
``type='mmfrozen.LVISMetric'`` and ``type='LVISMetric'`` stays mmdet's class.

Part of mmfrozen, which implements "Proper Reuse of Image Classification Features Improves
Object Detection" (Vasconcelos, Birodkar, Dumoulin, CVPR 2022), whose LVIS v1 results this
evaluates.
"""
import inspect
import itertools
import os.path as osp
import re
import tempfile
from collections import OrderedDict
from importlib.metadata import version
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
from faster_coco_eval import COCO, COCOeval_faster
from mmengine.fileio import get_local_path, load
from mmengine.logging import MMLogger
from mmdet.evaluation.functional import eval_recalls, print_recall_summary
from mmdet.evaluation.metrics import CocoMetric
from mmdet.evaluation.metrics import LVISMetric as MMDetLVISMetric
from mmdet.registry import METRICS
from terminaltables import AsciiTable

from ...registry import REGISTRIES
from ..functional import category_frequencies, limit_dets_per_image, per_category_ap

# LVIS result name -> faster-coco-eval ``stats_as_dict`` name
_STATS = OrderedDict(AP='AP_all', AP50='AP_50', AP75='AP_75', APs='AP_small', APm='AP_medium',
                     APl='AP_large', APr='APr', APc='APc', APf='APf')
_AR_STATS = dict(AR='AR_all', ARs='AR_small', ARm='AR_medium', ARl='AR_large')


@REGISTRIES['METRICS'].register_module(name='LVISMetric')
class LVISMetric(CocoMetric):
    """LVIS evaluation metric: mmdet's ``LVISMetric``, made to run on numpy 2.

    Chosen in a config by its scoped name, ``type='mmfrozen.LVISMetric'``; the plain name
    ``LVISMetric`` is mmdet's class, which :class:`~mmfrozen.engine.FrozenRunner` and the
    package's tools refuse where it cannot run (see :meth:`why_mmdet_cannot_run`).

    Its metrics and keys are mmdet's: ``'bbox'``/``'segm'`` give ``<metric>_AP``, ``_AP50``,
    ``_AP75``, ``_APs``, ``_APm``, ``_APl``, ``_APr``, ``_APc``, ``_APf``; ``classwise`` adds
    ``<class>_precision`` (no metric in the key, as in mmdet: with several metrics the last one
    evaluated is kept there; the logged table shows each); ``'proposal'`` gives ``AR@300``,
    ``ARs@300``, ``ARm@300``, ``ARl@300``, the LVIS average recall of the boxes at 300
    detections per image (class-aware and federated: what mmdet's ``LVISMetric`` computes, as
    ``lvis``'s ``LVISEval`` ignores the ``useCats``/``maxDets`` it sets); ``'proposal_fast'``
    gives ``AR@<n>`` for each of ``proposal_nums``, class-agnostic recall against every box of
    each image. Unlike mmdet's, the class-wise AP is read in the evaluator's (sorted) category
    order, so it is right for a file that lists its categories out of id order.

    Args:
        ann_file: LVIS-format annotation file (images with ``neg_category_ids`` and
            ``not_exhaustive_category_ids``, categories with ``frequency``). Required: mmdet's
            conversion of the dataset's annotations has none of these.
        metric: ``'bbox'``, ``'segm'``, ``'proposal'``, ``'proposal_fast'`` or a list of them.
        classwise: Also report per-class AP as ``<class>_precision``.
        proposal_nums: Proposal numbers for ``'proposal_fast'``.
        iou_thrs: IoU thresholds (default .50:.05:.95).
        metric_items: Results to report, from ``AP AP50 AP75 APs APm APl APr APc APf`` and
            ``AR@300 ARs@300 ARm@300 ARl@300`` (with ``max_dets_per_image`` in place of 300).
            Default: the nine AP results (``'proposal'``: the four AR results).
        format_only: Only write the result files under ``outfile_prefix``.
        outfile_prefix: Prefix of the result json files (default: a temporary directory).
        max_dets_per_image: Detections kept per image, over all categories (LVIS: 300).
        collect_device: ``'cpu'`` or ``'gpu'``, for collecting results across ranks.
        prefix: Key prefix (default ``'lvis'``).
        file_client_args: Deprecated, as in mmdet.
        backend_args: File backend arguments.
    """

    default_prefix: Optional[str] = 'lvis'
    allowed_metrics = ('bbox', 'segm', 'proposal', 'proposal_fast')

    def __init__(self,
                 ann_file: str,
                 metric: Union[str, List[str]] = 'bbox',
                 classwise: bool = False,
                 proposal_nums: Sequence[int] = (100, 300, 1000),
                 iou_thrs: Optional[Union[float, Sequence[float]]] = None,
                 metric_items: Optional[Sequence[str]] = None,
                 format_only: bool = False,
                 outfile_prefix: Optional[str] = None,
                 max_dets_per_image: int = 300,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 file_client_args: Optional[dict] = None,
                 backend_args: Optional[dict] = None) -> None:
        for m in metric if isinstance(metric, list) else [metric]:
            if m not in self.allowed_metrics:  # mmdet's message
                raise KeyError("metric should be one of 'bbox', 'segm', 'proposal', "
                               f"'proposal_fast', but got {m}.")
        if ann_file is None:
            raise ValueError('mmfrozen.LVISMetric needs ann_file: federated LVIS evaluation '
                             'reads neg_category_ids, not_exhaustive_category_ids and frequency '
                             "from it, and the dataset's annotations converted to COCO format "
                             'have none of them. Set ann_file to the LVIS-format json.')
        if max_dets_per_image <= 0:
            raise ValueError(f'max_dets_per_image must be positive, got {max_dets_per_image}')
        # ann_file=None here: the annotations are loaded below, once, with faster-coco-eval
        super().__init__(ann_file=None, metric=metric, classwise=classwise,
                         proposal_nums=proposal_nums, iou_thrs=iou_thrs, metric_items=metric_items,
                         format_only=format_only, outfile_prefix=outfile_prefix,
                         file_client_args=file_client_args, backend_args=backend_args,
                         collect_device=collect_device, prefix=prefix)
        self.max_dets_per_image = max_dets_per_image
        known = list(_STATS) + [f'{k}@{max_dets_per_image}' for k in _AR_STATS]
        for item in metric_items or ():
            if item not in known:
                raise KeyError(f'mmfrozen.LVISMetric: metric item {item!r} is not supported; '
                               f'use {known}')
        self.ann_file = ann_file
        with get_local_path(ann_file, backend_args=self.backend_args) as local_path:
            self._lvis_api = COCO(local_path)
        self._check_lvis_format()
        # CocoMetric.process reads the ground truth through this LVIS-compatible API
        self._coco_api = self._lvis_api

    @staticmethod
    def why_mmdet_cannot_run() -> Optional[str]:
        """Why mmdet's ``LVISMetric`` cannot evaluate on this stack; None when it can.

        mmdet's evaluates with the ``lvis`` package's ``LVISEval``, which (up to lvis 0.5.3)
        calls ``np.float``, an alias numpy removed in 1.24.
        """
        try:
            import lvis.eval
        except ImportError:  # mmdet's LVISMetric says so itself when it is built
            return None
        if hasattr(np, 'float') or not re.search(r'\bnp\.float\b', inspect.getsource(lvis.eval)):
            return None
        return (f"its LVISEval (lvis {version('lvis')}) calls np.float, which numpy "
                f'{np.__version__} no longer has, so the evaluation would fail with an '
                'AttributeError after the whole validation or test pass')

    def _check_lvis_format(self) -> None:
        api = self._lvis_api
        for img in api.dataset.get('images', []):
            missing = [k for k in ('neg_category_ids', 'not_exhaustive_category_ids')
                       if k not in img]
            if missing:
                raise ValueError(
                    f'mmfrozen.LVISMetric: image {img.get("id")} of {self.ann_file} has no '
                    f'{missing}: not an LVIS-format annotation file. Federated evaluation needs '
                    'both lists on every image; for COCO-format data use CocoMetric (or '
                    'CocoFrequencyMetric for APr/APc/APf from category frequencies).')
        category_frequencies(api.cats, sorted(api.cats), self.ann_file)

    def _lazy_init(self) -> None:
        # labels index the categories in file order, as in mmdet's LVISV1Dataset
        if self.cat_ids is None:
            self.cat_ids = self._lvis_api.get_cat_ids()
        if self.img_ids is None:
            self.img_ids = sorted(self._lvis_api.get_img_ids())

    def fast_eval_recall(self, results: List[dict], proposal_nums: Sequence[int],
                         iou_thrs: Sequence[float],
                         logger: Optional[MMLogger] = None) -> np.ndarray:
        """Class-agnostic recall of the boxes against every annotated box of their image.

        mmdet's recall (``eval_recalls``), computed image by image and summed: LVIS annotations
        have no ``iscrowd`` (which CocoMetric's version reads), and mmdet's one call over all
        images builds a ragged array that numpy 2 refuses. Each result is paired with its own
        image's boxes.

        Returns:
            Recall averaged over ``iou_thrs``, one value per entry of ``proposal_nums``.
        """
        matched, num_gts = 0.0, 0
        for result in results:
            boxes = [a['bbox'] for a in self._lvis_api.imgToAnns.get(result['img_id'], [])]
            if not boxes:
                continue
            gts = np.array([[x, y, x + w, y + h] for x, y, w, h in boxes], dtype=np.float32)
            recalls = eval_recalls([gts], [result['bboxes']], proposal_nums, iou_thrs,
                                   logger='silent')
            matched = matched + recalls * len(gts)  # [proposal nums, IoU thresholds]
            num_gts += len(gts)
        if not num_gts:
            raise ValueError(f'mmfrozen.LVISMetric: the evaluated images of {self.ann_file} '
                             "have no annotated box, so 'proposal_fast' recall is undefined.")
        recalls = matched / num_gts
        print_recall_summary(recalls, proposal_nums, iou_thrs, logger=logger)
        return recalls.mean(axis=1)

    def evaluate_lvis(self, predictions: List[dict], iou_type: str) -> COCOeval_faster:
        """Run the federated LVIS evaluation of COCO-format ``predictions``.

        Args:
            predictions: Result dicts (``image_id``, ``category_id``, ``score``, ``bbox`` and/or
                ``segmentation`` as RLE), as written by :meth:`results2json`.
            iou_type: ``'bbox'`` or ``'segm'``.

        Returns:
            The evaluated faster-coco-eval object (``stats_as_dict``, ``eval['precision']``).
        """
        logger: MMLogger = MMLogger.get_current_instance()
        self._lazy_init()
        if iou_type == 'segm':
            # mask area, not box area, decides small/medium/large
            for p in predictions:
                p.pop('bbox', None)
        predictions = limit_dets_per_image(predictions, self.max_dets_per_image)
        lvis_dt = self._lvis_api.loadRes(predictions)
        lvis_eval = COCOeval_faster(self._lvis_api, lvis_dt, iou_type, lvis_style=True,
                                    print_function=logger.debug)
        lvis_eval.params.imgIds = self.img_ids
        lvis_eval.params.catIds = self.cat_ids
        lvis_eval.params.iouThrs = self.iou_thrs
        lvis_eval.params.maxDets = [self.max_dets_per_image]
        lvis_eval.evaluate()
        lvis_eval.accumulate()
        lvis_eval.print_function = logger.info
        lvis_eval.summarize()
        return lvis_eval

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Compute the LVIS metrics from the processed results.

        Args:
            results: The ``(gt, prediction)`` pairs stored by :meth:`process`.

        Returns:
            mmdet's keys: ``<metric>_AP``, ``<metric>_APr``, ... (with ``classwise``,
            ``<class>_precision``); ``AR@300``, ... for ``'proposal'``; ``AR@<n>`` for
            ``'proposal_fast'``.
        """
        logger: MMLogger = MMLogger.get_current_instance()
        _, preds = zip(*results)
        tmp_dir = None
        if self.outfile_prefix is None:
            tmp_dir = tempfile.TemporaryDirectory()
            outfile_prefix = osp.join(tmp_dir.name, 'results')
        else:
            outfile_prefix = self.outfile_prefix
        self._lazy_init()
        result_files = self.results2json(preds, outfile_prefix)
        eval_results: Dict[str, float] = OrderedDict()
        if self.format_only:
            logger.info(f'results are saved in {osp.dirname(outfile_prefix)}')
            return eval_results

        names = dict(_STATS)
        names.update({f'{k}@{self.max_dets_per_image}': v for k, v in _AR_STATS.items()})
        for metric in self.metrics:
            logger.info(f'Evaluating {metric} (LVIS federated, faster-coco-eval)...')
            if metric == 'proposal_fast':
                ar = self.fast_eval_recall(preds, self.proposal_nums, self.iou_thrs, logger=logger)
                for i, num in enumerate(self.proposal_nums):
                    eval_results[f'AR@{num}'] = float(ar[i])
                continue
            predictions = load(result_files[metric])
            if not predictions:
                logger.error(f'mmfrozen.LVISMetric: no detection in any image, so no {metric} '
                             'results (as mmdet: it reports nothing for an empty result file).')
                break
            lvis_eval = self.evaluate_lvis(predictions, 'bbox' if metric == 'proposal' else metric)
            stats = lvis_eval.stats_as_dict
            if metric == 'proposal':
                items = self.metric_items or [f'{k}@{self.max_dets_per_image}' for k in _AR_STATS]
            else:
                items = self.metric_items or list(_STATS)
            key = '{}' if metric == 'proposal' else f'{metric}_{{}}'
            for item in items:
                eval_results[key.format(item)] = float(f'{stats[names[item]]:.3f}')
            if self.classwise and metric != 'proposal':
                self._log_classwise(lvis_eval, eval_results)
        if tmp_dir is not None:
            tmp_dir.cleanup()
        return eval_results

    def _log_classwise(self, lvis_eval: COCOeval_faster, eval_results: Dict[str, float]) -> None:
        ap = per_category_ap(lvis_eval.eval['precision'])
        cat_ids = lvis_eval.params.catIds  # the evaluator's (sorted) order of the precision array
        freqs = category_frequencies(self._lvis_api.cats, cat_ids, self.ann_file)
        rows = []
        for cat_id, cat_ap, freq in zip(cat_ids, ap, freqs):
            name = self._lvis_api.cats[cat_id]['name']
            eval_results[f'{name}_precision'] = round(float(cat_ap), 3)
            rows.append((name, freq, f'{cat_ap:0.3f}'))
        columns = min(3, len(rows))
        flat = list(itertools.chain(*rows))
        table = [['category', 'freq', 'AP'] * columns]
        table += list(itertools.zip_longest(*[flat[i::columns * 3] for i in range(columns * 3)]))
        MMLogger.get_current_instance().info('\n' + AsciiTable(table).table)


def _scoped_config_dicts(node: Any, scope: Optional[str]) -> Iterator[Tuple[dict, str]]:
    """Every dict in a config node, nested ones included (an Evaluator's ``metrics``, a
    SweepMetric's ``metric``), with the scope mmengine builds it in: its own ``_scope_``, else
    the nearest enclosing dict's (``build_from_cfg`` makes that the default scope while the
    enclosing object builds its parts), else the config's ``default_scope``."""
    if isinstance(node, Mapping):
        scope = node.get('_scope_') or scope
        yield node, scope
        node = list(node.values())
    if isinstance(node, (list, tuple)):
        for child in node:
            yield from _scoped_config_dicts(child, scope)


def refuse_mmdet_lvis_metric(cfg: Mapping) -> None:
    """Refuse a config whose evaluators ask for mmdet's ``LVISMetric`` where it cannot run.

    A config check, registered by the package root
    (:func:`~mmfrozen.engine.runner.checks.register_config_check`):
    :class:`~mmfrozen.engine.FrozenRunner` and the package's tools run it before building
    anything, so the run stops at once rather than after its first validation pass. A plain
    ``type='LVISMetric'`` is resolved in the scope mmengine will build it in (its ``_scope_``,
    an enclosing dict's, or ``default_scope``): under ``mmfrozen`` it is ours.

    Raises:
        ValueError: naming the evaluator, why mmdet's metric fails here and the name to write.
    """
    reason = LVISMetric.why_mmdet_cannot_run()
    if reason is None:
        return
    for key in ('val_evaluator', 'test_evaluator'):
        for node, scope in _scoped_config_dicts(cfg.get(key), cfg.get('default_scope')):
            kind = node.get('type')
            if isinstance(kind, str):
                registry = REGISTRIES['METRICS'] if scope == 'mmfrozen' else METRICS
                kind = registry.get(kind)
            if kind is MMDetLVISMetric:
                raise ValueError(
                    f"mmfrozen: {key} asks for mmdet's LVISMetric (type={node['type']!r}, "
                    f'built in scope {scope or "mmdet"!r}), but {reason}. Write '
                    "type='mmfrozen.LVISMetric' instead: mmfrozen's LVISMetric takes the same "
                    'arguments and logs the same metrics and keys, evaluating with '
                    'faster-coco-eval (docs/lvis.md).')
