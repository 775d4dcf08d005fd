# Twin of mask-rcnn_dinov2-b-ft_sfp-nasfpn_rfs-ms-1x-adamw_lvis-v1.py with the DINOv2 ViT-B/14
# backbone frozen: only the pyramid, NAS-FPN and heads train; custom_imports comes from the twin.
_base_ = ['./mask-rcnn_dinov2-b-ft_sfp-nasfpn_rfs-ms-1x-adamw_lvis-v1.py',
          '../_base_/freeze_backbone_runner.py']
