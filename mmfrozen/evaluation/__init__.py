"""Evaluation metrics: frequency-bucket (LVIS-style) AP, LVIS on numpy 2.

Importing registers ``CocoFrequencyMetric`` into mmdet's METRICS registry and ``LVISMetric``
into the ``mmfrozen`` scope: mmdet's ``LVISMetric`` (whose ``lvis`` dependency fails on numpy 2)
stays registered as it is, and a config chooses ours as ``type='mmfrozen.LVISMetric'``.
"""
from .functional import frequency_bucket_ap, per_category_ap
from .metrics import CocoFrequencyMetric, LVISMetric

__all__ = ['CocoFrequencyMetric', 'LVISMetric', 'frequency_bucket_ap',
           'per_category_ap']
