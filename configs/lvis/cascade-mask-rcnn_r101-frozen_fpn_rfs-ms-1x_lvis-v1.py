# Twin of cascade-mask-rcnn_r101-ft_fpn_rfs-ms-1x_lvis-v1.py with the ImageNet backbone frozen
# (the lines of ../_base_/freeze_backbone.py; custom_imports comes from the twin).
_base_ = './cascade-mask-rcnn_r101-ft_fpn_rfs-ms-1x_lvis-v1.py'
runner_type = 'FrozenRunner'  # freezes before DDP wrapping and optimizer building
custom_hooks = [dict(type='FreezeBackboneHook')]
