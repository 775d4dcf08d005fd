"""Results table, metafile.yml and plots from mmengine work dirs (frozen vs fine-tuned twins).

Example::

    python tools/analysis/results_table.py work_dirs/ --cost cost.json --out-dir results/

Same as the console entry point ``mmfrozen-results-table``; the work is done by
:mod:`mmfrozen.analysis.results_table`.
"""
import sys
from typing import Optional, Sequence

from mmfrozen.analysis.results_table import main as _main
from mmfrozen.analysis.results_table import parse_args  # noqa: F401  (the tool's arguments)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the tool; the exit status is 0, or 1 when no usable run was found."""
    return _main(argv)


if __name__ == '__main__':
    sys.exit(main())
