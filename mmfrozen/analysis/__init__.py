"""Library code behind tools/analysis: results tables, plots, training cost, parameters."""
