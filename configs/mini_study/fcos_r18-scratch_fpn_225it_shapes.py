# No upstream weights: the smallest decoder trained from a random backbone.
_base_ = './fcos_r18-ft_fpn_225it_shapes.py'

model = dict(backbone=dict(init_cfg=None))
