# Twin of mask-rcnn_dinov2-s-ft_sfp-nasfpn_lsj-72e-adamw_coco.py with the DINOv2 ViT-S/14 backbone
# frozen: only the pyramid, NAS-FPN and heads train. The lines of ../_base_/freeze_backbone.py
# (custom_imports comes from the twin).
_base_ = './mask-rcnn_dinov2-s-ft_sfp-nasfpn_lsj-72e-adamw_coco.py'
runner_type = 'FrozenRunner'  # freezes before DDP wrapping and optimizer building
custom_hooks = [dict(type='FreezeBackboneHook')]
