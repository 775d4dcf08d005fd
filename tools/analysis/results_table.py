"""Results table, metafile.yml and plots from mmengine work dirs (frozen vs fine-tuned twins).

Example::

    python tools/analysis/results_table.py work_dirs/ --cost cost.json --out-dir results/

Same as the console entry point ``mmfrozen-results-table``
(:mod:`mmfrozen.analysis.results.table`); exits 1 when no usable run was found.
"""
import sys

from mmfrozen.analysis.results.table import main

if __name__ == '__main__':
    sys.exit(main())
