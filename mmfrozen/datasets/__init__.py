"""Datasets: the deterministic mini-study data generator (shapes x textures, no downloads)."""
from .shapes import SHAPES, TEXTURES
from .shapes_classification import ShapesClassification, make_shapes_classification
from .shapes_detection import LongTail, ShapesDetection, lvis_frequency, make_shapes_detection
from .shapes_world import STUDY_SHAPES, ShapesWorld

__all__ = ['SHAPES', 'TEXTURES', 'STUDY_SHAPES', 'ShapesWorld', 'ShapesClassification',
           'make_shapes_classification', 'LongTail', 'ShapesDetection', 'lvis_frequency',
           'make_shapes_detection']
