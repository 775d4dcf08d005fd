# Twin of mask-rcnn_convnext-t-ft_fpn_ms-crop-3x_coco.py
# with the ImageNet backbone frozen: only neck and heads train. The three lines of
# ../_base_/freeze_backbone.py, inline because custom_imports must also keep mmpretrain.
_base_ = './mask-rcnn_convnext-t-ft_fpn_ms-crop-3x_coco.py'

custom_imports = dict(imports=['mmpretrain.models', 'mmfrozen'], allow_failed_imports=False)
runner_type = 'FrozenRunner'  # freezes before DDP wrapping and optimizer building
custom_hooks = [dict(type='FreezeBackboneHook')]
