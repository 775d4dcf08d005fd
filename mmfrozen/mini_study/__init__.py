"""The mini-study: the paper's experiment in miniature, on a CPU."""
