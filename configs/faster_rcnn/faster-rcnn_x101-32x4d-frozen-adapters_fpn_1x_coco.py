# Twin of faster-rcnn_x101-32x4d-ft_fpn_1x_coco.py
# with the ImageNet backbone frozen and residual adapters (zero-initialised
# 1x1-conv bottlenecks beside every residual block) trained inside it.
_base_ = ['./faster-rcnn_x101-32x4d-ft_fpn_1x_coco.py', '../_base_/freeze_backbone.py']

adapter_cfg = dict(reduction=16)  # adapter hidden width = block input channels / 16

model = dict(backbone=dict(type='AdaptedResNeXt', adapter_cfg=adapter_cfg))
