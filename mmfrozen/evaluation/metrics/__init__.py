from .coco_frequency_metric import CocoFrequencyMetric
from .lvis_metric import LVISMetric
from .sweep_metric import SweepMetric

__all__ = ['CocoFrequencyMetric', 'LVISMetric', 'SweepMetric']
