"""The training-cost benchmark: one training step per variant, each in a fresh process."""
