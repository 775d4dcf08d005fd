"""Run the mini-study end to end (``make demo``): data, upstream pretraining, detector variants,
training cost, results table and summary. Same as the console entry point
``mmfrozen-mini-study`` (:mod:`mmfrozen.mini_study.pipeline`). See docs/mini_study.md."""
import sys

from mmfrozen.mini_study.pipeline import main

if __name__ == '__main__':
    sys.exit(main())
