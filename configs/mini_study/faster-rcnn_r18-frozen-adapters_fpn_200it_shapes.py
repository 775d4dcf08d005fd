# Frozen upstream backbone with residual adapters (zero-initialised 1x1-conv bottlenecks beside
# every residual block) trained inside it; twin: faster-rcnn_r18-ft_fpn_200it_shapes.py.
_base_ = './faster-rcnn_r18-frozen_fpn_200it_shapes.py'

adapter_cfg = dict(reduction=4)  # adapter hidden width = block input channels / 4 (>= 8 here)

model = dict(backbone=dict(type='AdaptedResNet', adapter_cfg=adapter_cfg))
