# Twin of faster-rcnn_r18-ft_bifpn-r1-w64_200it_shapes.py with the upstream backbone frozen (the
# lines of ../_base_/freeze_backbone.py; custom_imports is already in the base).
_base_ = './faster-rcnn_r18-ft_bifpn-r1-w64_200it_shapes.py'

runner_type = 'FrozenRunner'  # freezes before DDP wrapping and optimizer building
custom_hooks = [dict(type='FreezeBackboneHook')]
