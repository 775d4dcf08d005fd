# Twin of cascade-mask-rcnn_effb7-ft_nasfpn_lsj-cp-1280-600e_coco.py with the ImageNet
# EfficientNet-B7 frozen (custom_imports comes from the twin).
_base_ = ['./cascade-mask-rcnn_effb7-ft_nasfpn_lsj-cp-1280-600e_coco.py',
          '../_base_/freeze_backbone_runner.py']
