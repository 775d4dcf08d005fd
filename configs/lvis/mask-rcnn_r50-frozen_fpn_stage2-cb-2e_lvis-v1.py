# Stage 2 of the paper's LVIS recipe on top of mask-rcnn_r50-frozen_fpn_rfs-ms-1x_lvis-v1.py:
# the trained detector is frozen whole except its final classification layer, which is
# re-trained for a short schedule with a class-balanced loss (effective-number weights).
# The same lines turn any trained LVIS config into its stage 2.
_base_ = './mask-rcnn_r50-frozen_fpn_rfs-ms-1x_lvis-v1.py'

stage1 = 'mask-rcnn_r50-frozen_fpn_rfs-ms-1x_lvis-v1'
load_from = f'work_dirs/{stage1}/epoch_12.pth'  # the trained stage-1 detector
stage2_epochs = 2  # short: 1/6 of the 12-epoch stage 1
class_balanced_beta = 0.999  # effective-number weights (Cui et al., CVPR 2019)

runner_type = 'FrozenRunner'
custom_hooks = [dict(type='ClassifierRetrainHook', class_balanced_beta=class_balanced_beta)]
train_cfg = dict(max_epochs=stage2_epochs, val_interval=stage2_epochs)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=stage2_epochs, by_epoch=True,
         milestones=[stage2_epochs - 1], gamma=0.1)
]
