# Twin of faster-rcnn_r18-ft_fpn_200it_shapes.py with the upstream backbone frozen. These are the
# lines of ../_base_/freeze_backbone.py; its custom_imports is already in the base.
_base_ = './faster-rcnn_r18-ft_fpn_200it_shapes.py'

runner_type = 'FrozenRunner'  # freezes before DDP wrapping and optimizer building
custom_hooks = [dict(type='FreezeBackboneHook')]
