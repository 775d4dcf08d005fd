"""Run the mini-study end to end (``make demo``): data, upstream pretraining, detector variants,
training cost, results table and summary. See docs/mini_study.md."""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmfrozen.mini_study.pipeline import main, parse_args  # noqa: E402,F401

if __name__ == '__main__':
    sys.exit(main())
