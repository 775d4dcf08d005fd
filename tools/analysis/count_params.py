"""Total and trainable parameters of detector configs, per component (markdown table).

Example::

    python tools/analysis/count_params.py configs/cascade_rcnn/*_r101-frozen_*lsj-72e*.py
"""
import sys

from mmfrozen.analysis.count_params import main, parse_args  # noqa: F401

if __name__ == '__main__':
    sys.exit(main())
