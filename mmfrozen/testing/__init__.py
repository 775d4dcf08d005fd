"""Helpers for tests and smoke runs: tiny generated COCO data and config overrides."""
from .overrides import (make_local_pretrained, set_image_scale, set_num_classes,
                        shrink_model, tiny_overrides)
from .tiny_coco import TinyCoco, make_tiny_coco

__all__ = ['TinyCoco', 'make_tiny_coco', 'tiny_overrides', 'make_local_pretrained',
           'set_num_classes', 'set_image_scale', 'shrink_model']
