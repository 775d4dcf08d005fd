# Stage 2 of the paper's LVIS recipe on top of mask-rcnn_r50-frozen_fpn_rfs-ms-1x_lvis-v1.py:
# the trained detector is frozen whole except its final classification layer, which is
# re-trained for a short schedule with a class-balanced loss (effective-number weights).
# Stage 2 freezes the whole detector either way, so it is
# ./mask-rcnn_r50-ft_fpn_stage2-cb-2e_lvis-v1.py started from the frozen stage-1 run.
_base_ = './mask-rcnn_r50-ft_fpn_stage2-cb-2e_lvis-v1.py'

stage1 = 'mask-rcnn_r50-frozen_fpn_rfs-ms-1x_lvis-v1'
load_from = f'work_dirs/{stage1}/epoch_12.pth'  # the trained stage-1 detector
