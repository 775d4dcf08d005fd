"""Total and trainable parameters of detector configs, per component (markdown table).

Example::

    python tools/analysis/count_params.py configs/cascade_rcnn/*_r101-frozen_*lsj-72e*.py

Same as the console entry point ``mmfrozen-count-params`` (:mod:`mmfrozen.analysis.params`).
"""
import sys

from mmfrozen.analysis.params import main

if __name__ == '__main__':
    sys.exit(main())
