"""Evaluation metrics: frequency-bucket (LVIS-style) AP, LVIS on numpy 2."""
