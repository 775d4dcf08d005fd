"""Run the mini-study end to end (``make demo``): data, upstream pretraining, detector twins at
three decoder capacities, results table, summary with the paper's three claims, plots. Same as
the console entry point ``mmfrozen-mini-study`` (:mod:`mmfrozen.mini_study.pipeline`). See
docs/mini_study.md."""
import sys

from mmfrozen.mini_study.pipeline import main

if __name__ == '__main__':
    sys.exit(main())
