"""Necks with an explicit capacity dial, and ViTDet's simple feature pyramid."""
from .simple_feature_pyramid import SimpleFeaturePyramid
from .stacked_bifpn import StackedBiFPN

__all__ = ['SimpleFeaturePyramid', 'StackedBiFPN']
