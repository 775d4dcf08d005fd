# Twin of cascade-mask-rcnn_clip-b-ft_sfp-nasfpn_lsj-72e-adamw_coco.py with the CLIP ViT-B/16
# backbone frozen: only the pyramid, NAS-FPN and heads train; custom_imports comes from the twin.
_base_ = ['./cascade-mask-rcnn_clip-b-ft_sfp-nasfpn_lsj-72e-adamw_coco.py',
          '../_base_/freeze_backbone_runner.py']
