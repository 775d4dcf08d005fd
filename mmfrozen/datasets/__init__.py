"""Datasets: the deterministic mini-study data generator (shapes x textures, no downloads)."""
from .shapes import SHAPES, TEXTURES, class_names
from .shapes_classification import ShapesClassification, make_shapes_classification
from .shapes_detection import LongTail, ShapesDetection, lvis_frequency, make_shapes_detection

__all__ = ['SHAPES', 'TEXTURES', 'class_names', 'ShapesClassification',
           'make_shapes_classification', 'LongTail', 'ShapesDetection', 'lvis_frequency',
           'make_shapes_detection']
