"""Evaluation metrics: frequency-bucket (LVIS-style) AP, LVIS on numpy 2.

Importing registers ``CocoFrequencyMetric`` and replaces mmdet's ``LVISMetric`` (whose ``lvis``
dependency fails on numpy 2) in mmdet's METRICS registry.
"""
from .functional import frequency_bucket_ap, per_category_ap
from .metrics import CocoFrequencyMetric, LVISMetric

__all__ = ['CocoFrequencyMetric', 'LVISMetric', 'frequency_bucket_ap',
           'per_category_ap']
