# Twin of faster-rcnn_r18-ft_fpn_200it_shapes.py trained from scratch: no upstream weights.
_base_ = './faster-rcnn_r18-ft_fpn_200it_shapes.py'

model = dict(backbone=dict(init_cfg=None))
