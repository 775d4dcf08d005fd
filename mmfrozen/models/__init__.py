"""Capacity modules for frozen backbones: residual adapters, necks, heads."""
