# No upstream weights: the smallest decoder trained from a random backbone.
_base_ = './fcos_r18-ft_fpn_1xb8-450it_shapes.py'

model = dict(backbone=dict(init_cfg=None))
# a random backbone learns at the decoder's rate (the fine-tuned twins' 0.1x is for pretrained
# weights)
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=dict(backbone=dict(lr_mult=1.0))))
