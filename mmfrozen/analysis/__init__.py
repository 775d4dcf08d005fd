"""The tools over runs and configs: results table (``results/``), training cost (``cost/``),
parameter counts (``params``), over shared config edits and the config naming rule."""
