"""The mini-study: the paper's experiment in miniature, on a CPU (see pipeline.py)."""
from .design import FULL, LONG, PROFILES, QUICK, StudyDesign
from .variants import CAPACITIES, VARIANTS, Variant

__all__ = ['StudyDesign', 'FULL', 'LONG', 'QUICK', 'PROFILES', 'Variant', 'VARIANTS', 'CAPACITIES']
