# The frozen upstream backbone with trained residual adapters beside every residual block
# (AdaptedResNet: zero-initialised, so step 0 equals the frozen model), smallest decoder.
_base_ = './fcos_r18-frozen_fpn_1xb8-450it_shapes.py'

model = dict(backbone=dict(type='AdaptedResNet', adapter_cfg=dict(reduction=4)))
