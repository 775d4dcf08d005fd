"""``SweepMetric``: evaluate every member of a detector sweep with its own copy of a metric."""
import copy
import logging
import os.path as osp
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Union

from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmdet.registry import METRICS

from .detector_sweep import MEMBER_PREDS


@METRICS.register_module()
class SweepMetric(BaseMetric):
    """Route each sweep member's predictions to a copy of the metric of its own.

    A :class:`~mmfrozen.sweep.DetectorSweep` predicts, for every image, one result
    per member (``data_sample.member_preds.<member>``). For each member this metric builds its own
    copies of ``metric`` (with the prefix ``<member>/<metric prefix>``, e.g.
    ``fpn/coco/bbox_mAP``), feeds each the data samples with that member's predictions in place,
    and reports all members' results together. A metric that writes files writes them per member:
    ``outfile_prefix`` (CocoMetric's ``format_only``) becomes ``<prefix>_<member>``,
    ``out_file_path`` (``DumpDetResults``, ``tools/test.py --out``) ``<stem>_<member>.pkl``.
    A sweep config wraps the members' evaluator::

        val_evaluator = dict(_delete_=True, type='SweepMetric', metric={{_base_.val_evaluator}})

    Args:
        metric: Config of the metric (or a list of configs) each member is evaluated with.
        collect_device: Unused by the wrapper itself; each copy collects its own results.
    """

    def __init__(self, metric: Union[dict, List[dict]], collect_device: str = 'cpu') -> None:
        super().__init__(collect_device=collect_device, prefix='sweep')
        cfgs = list(metric) if isinstance(metric, (list, tuple)) else [metric]
        if not cfgs or not all(isinstance(c, dict) and 'type' in c for c in cfgs):
            raise ValueError(f'SweepMetric needs metric config(s) with a type, got {metric!r}')
        self.metric_cfgs = [dict(c) for c in cfgs]
        self.member_metrics: Dict[str, List[BaseMetric]] = OrderedDict()

    @property
    def dataset_meta(self) -> Optional[dict]:
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, dataset_meta: dict) -> None:
        self._dataset_meta = dataset_meta
        for metrics in self.member_metrics.values():
            for m in metrics:
                m.dataset_meta = dataset_meta

    def _metrics_of(self, member: str) -> List[BaseMetric]:
        if member not in self.member_metrics:
            metrics = []
            for cfg in self.metric_cfgs:
                cfg = copy.deepcopy(cfg)
                if cfg.get('outfile_prefix'):  # CocoMetric format_only: one file set per member
                    cfg['outfile_prefix'] = f"{cfg['outfile_prefix']}_{member}"
                if cfg.get('out_file_path'):  # DumpResults (--out): one file per member
                    stem, ext = osp.splitext(cfg['out_file_path'])
                    cfg['out_file_path'] = f'{stem}_{member}{ext}'
                m = METRICS.build(cfg)
                m.prefix = f'{member}/{m.prefix}' if m.prefix else member
                if self._dataset_meta is not None:
                    m.dataset_meta = self._dataset_meta
                metrics.append(m)
            self.member_metrics[member] = metrics
        return self.member_metrics[member]

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Give every member's metrics the samples with that member's predictions."""
        members = None
        for sample in data_samples:
            preds = sample.get(MEMBER_PREDS)
            if not isinstance(preds, dict) or not preds:
                raise ValueError(
                    f'SweepMetric: a data sample has no {MEMBER_PREDS!r} (keys: {sorted(sample)}); '
                    'it evaluates the predictions of a DetectorSweep model. For one detector, '
                    'use its metric directly.')
            if members is None:
                members = sorted(preds)
            elif sorted(preds) != members:
                raise ValueError(f'SweepMetric: samples of one batch name different members '
                                 f'({members} vs {list(preds)})')
        classes = (self._dataset_meta or {}).get('classes')
        for member in members or []:
            shared = [{k: v for k, v in s.items() if k != MEMBER_PREDS} for s in data_samples]
            own = [dict(base, **s[MEMBER_PREDS][member]) for base, s in zip(shared, data_samples)]
            if classes is not None:
                self._check_labels(member, own, len(classes))
            for metric in self._metrics_of(member):
                metric.process(data_batch, own)

    @staticmethod
    def _check_labels(member: str, samples: Sequence[dict], num_classes: int) -> None:
        """Refuse a member's predicted labels beyond the dataset's classes: its head has another
        ``num_classes`` (the metric would fail with a bare IndexError, naming no member)."""
        for sample in samples:
            labels = (sample.get('pred_instances') or {}).get('labels')
            if labels is not None and len(labels) and int(labels.max()) >= num_classes:
                raise ValueError(
                    f'SweepMetric: sweep member {member!r} predicts class {int(labels.max())}, '
                    f'but the dataset has {num_classes} classes: its head\'s num_classes does '
                    'not match the data. Set num_classes of its heads to '
                    f'{num_classes} (in its config, or with cfg_options in the sweep\'s member '
                    'list).')

    def compute_metrics(self, results: list) -> dict:
        """Not used: :meth:`evaluate` asks every member's metrics for their results."""
        raise NotImplementedError('SweepMetric.evaluate delegates to the members\' metrics')

    def evaluate(self, size: int) -> dict:
        """Every member's metrics, each under its ``<member>/`` prefix.

        A metric that reports nothing for a member (mmdet's ``CocoMetric`` on an empty result
        set, e.g. of a member whose loss diverged) is not left out silently: each key the other
        members report is NaN for it, and a warning names the member.
        """
        if not self.member_metrics:
            raise RuntimeError('SweepMetric: no predictions were processed, so there is no '
                               'member to evaluate')
        reported: Dict[str, Dict[str, Any]] = OrderedDict()
        for member, metrics in self.member_metrics.items():
            reported[member] = OrderedDict()
            for metric in metrics:
                for key, value in metric.evaluate(size).items():
                    name = key[len(member) + 1:]
                    if name in reported[member]:  # as mmengine's Evaluator refuses it alone
                        raise ValueError(
                            f'SweepMetric: two of its metrics report {name!r} for sweep member '
                            f'{member!r} ({[c["type"] for c in self.metric_cfgs]}): one would '
                            "hide the other. Give each metric its own prefix (mmengine's "
                            'Evaluator refuses the same for one detector: "multiple evaluation '
                            'results with the same metric name").')
                    reported[member][name] = value
        every = list(OrderedDict.fromkeys(k for values in reported.values() for k in values))
        out = OrderedDict()
        for member, values in reported.items():
            missing = [k for k in every if k not in values]
            if missing:
                print_log(f'SweepMetric: sweep member {member!r} has no {missing} (the other '
                          'members have them): its metric reported nothing for them, typically '
                          'because it predicted nothing (a member whose loss diverged predicts '
                          'no boxes). Logged as NaN.', logger='current', level=logging.WARNING)
            out.update((f'{member}/{k}', values.get(k, float('nan'))) for k in every)
        return out
