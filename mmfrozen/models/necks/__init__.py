"""Necks with an explicit capacity dial."""
from .stacked_bifpn import StackedBiFPN

__all__ = ['StackedBiFPN']
