# The frozen upstream backbone with trained residual adapters beside every residual block
# (AdaptedResNet: zero-initialised, so step 0 equals the frozen model), smallest decoder.
_base_ = './fcos_r18-frozen_fpn_1xb8-450it_shapes.py'

model = dict(backbone=dict(type='AdaptedResNet', adapter_cfg=dict(reduction=4)))
# the adapters are new weights: they learn at the decoder's rate, not at the 0.1x of a pretrained
# backbone (mmengine applies the longest matching key, and '.adapter.' is longer than 'backbone')
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'.adapter.': dict(lr_mult=1.0)}))
