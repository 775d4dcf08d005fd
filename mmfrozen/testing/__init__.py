"""Helpers only tests import: tiny COCO data, config overrides, smoke steps."""
from .overrides import make_local_pretrained, shrink_model, tiny_overrides
from .tiny_coco import TinyCoco, make_tiny_coco

__all__ = ['TinyCoco', 'make_tiny_coco', 'tiny_overrides', 'make_local_pretrained',
           'shrink_model']
