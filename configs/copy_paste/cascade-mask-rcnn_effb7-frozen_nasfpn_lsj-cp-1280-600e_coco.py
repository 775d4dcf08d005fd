# Twin of cascade-mask-rcnn_effb7-ft_nasfpn_lsj-cp-1280-600e_coco.py with the ImageNet
# EfficientNet-B7 frozen (the lines of ../_base_/freeze_backbone.py; custom_imports comes
# from the twin).
_base_ = './cascade-mask-rcnn_effb7-ft_nasfpn_lsj-cp-1280-600e_coco.py'
runner_type = 'FrozenRunner'  # freezes before DDP wrapping and optimizer building
custom_hooks = [dict(type='FreezeBackboneHook')]
