# Twin of cascade-rcnn_r101-ft_bifpn-r5_lsj-72e_coco.py
# with the ImageNet backbone frozen and residual adapters (zero-initialised
# 1x1-conv bottlenecks beside every residual block) trained inside it.
_base_ = './cascade-rcnn_r101-frozen_bifpn-r5_lsj-72e_coco.py'

adapter_cfg = dict(reduction=16)  # adapter hidden width = block input channels / 16

model = dict(backbone=dict(type='AdaptedResNet', adapter_cfg=adapter_cfg))
