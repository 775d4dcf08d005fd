"""Datasets: the deterministic mini-study data generator."""
