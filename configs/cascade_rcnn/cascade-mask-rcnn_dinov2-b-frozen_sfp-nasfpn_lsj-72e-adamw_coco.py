# Twin of cascade-mask-rcnn_dinov2-b-ft_sfp-nasfpn_lsj-72e-adamw_coco.py with the DINOv2 ViT-B/14
# backbone frozen: only the pyramid, NAS-FPN and heads train; custom_imports comes from the twin.
_base_ = ['./cascade-mask-rcnn_dinov2-b-ft_sfp-nasfpn_lsj-72e-adamw_coco.py',
          '../_base_/freeze_backbone_runner.py']
