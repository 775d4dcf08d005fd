# The paper's official fastrcnn_resnet101_fpn_cascade_72epochs.yaml (frozen ResNet-RS-101): twin
# of cascade-rcnn_rs101-ft_fpn_lsj-1280-72e_coco.py with the ImageNet backbone frozen. The lines
# of ../_base_/freeze_backbone.py (custom_imports comes from the twin).
_base_ = './cascade-rcnn_rs101-ft_fpn_lsj-1280-72e_coco.py'
runner_type = 'FrozenRunner'  # freezes before DDP wrapping and optimizer building
custom_hooks = [dict(type='FreezeBackboneHook')]
