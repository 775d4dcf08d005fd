"""The tools over runs and configs: results table (``results/``), training cost (``cost/``),
parameter counts (``params``), over the config layer (:mod:`mmfrozen.config`)."""
