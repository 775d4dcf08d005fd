"""The mini-study: the paper's experiment in miniature, on a CPU (see pipeline.py)."""
from .progress import Progress
from .variants import HEADLINE, VARIANTS, Variant

__all__ = ['Progress', 'Variant', 'VARIANTS', 'HEADLINE']
