# Twin of mask-rcnn_dinov2-b-ft_sfp-nasfpn_rfs-ms-1x-adamw_lvis-v1.py with the DINOv2 ViT-B/14
# backbone frozen: only the pyramid, NAS-FPN and heads train. The lines of
# ../_base_/freeze_backbone.py (custom_imports comes from the twin).
_base_ = './mask-rcnn_dinov2-b-ft_sfp-nasfpn_rfs-ms-1x-adamw_lvis-v1.py'
runner_type = 'FrozenRunner'  # freezes before DDP wrapping and optimizer building
custom_hooks = [dict(type='FreezeBackboneHook')]
