# Twin of cascade-mask-rcnn_effb7-ft_nasfpn_lsj-cp-1280-100e_lvis-v1.py with the ImageNet
# EfficientNet-B7 frozen.
_base_ = './cascade-mask-rcnn_effb7-ft_nasfpn_lsj-cp-1280-100e_lvis-v1.py'
runner_type = 'FrozenRunner'  # freezes before DDP wrapping and optimizer building
custom_hooks = [dict(type='FreezeBackboneHook')]
