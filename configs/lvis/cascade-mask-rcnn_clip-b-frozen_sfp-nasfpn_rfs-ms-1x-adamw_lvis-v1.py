# Twin of cascade-mask-rcnn_clip-b-ft_sfp-nasfpn_rfs-ms-1x-adamw_lvis-v1.py with the CLIP ViT-B/16
# backbone frozen: only the pyramid, NAS-FPN and heads train; custom_imports comes from the twin.
_base_ = ['./cascade-mask-rcnn_clip-b-ft_sfp-nasfpn_rfs-ms-1x-adamw_lvis-v1.py',
          '../_base_/freeze_backbone_runner.py']
