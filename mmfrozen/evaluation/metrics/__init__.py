from .coco_frequency_metric import CocoFrequencyMetric
from .lvis_metric import LVISMetric

__all__ = ['CocoFrequencyMetric', 'LVISMetric']
