"""Training cost per step of detector configs: frozen vs fine-tuned twin vs the limit.

Example (the Faster R-CNN comparison of docs/train_cost.md)::

    python tools/analysis/train_cost.py configs/faster_rcnn/faster-rcnn_r50-frozen_fpn_1x_coco.py \
        --twin --stock --frozen-precision bf16-cl --batch-size 2 --image-size 640 640

Same as the console entry point ``mmfrozen-train-cost`` (:mod:`mmfrozen.analysis.cost.train_cost`).
See docs/train_cost.md.
"""
import sys

from mmfrozen.analysis.cost.train_cost import main

if __name__ == '__main__':
    sys.exit(main())
