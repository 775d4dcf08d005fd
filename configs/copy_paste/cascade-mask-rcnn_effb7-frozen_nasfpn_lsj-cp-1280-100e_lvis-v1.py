# Twin of cascade-mask-rcnn_effb7-ft_nasfpn_lsj-cp-1280-100e_lvis-v1.py with the ImageNet
# EfficientNet-B7 frozen (custom_imports comes from the twin).
_base_ = ['./cascade-mask-rcnn_effb7-ft_nasfpn_lsj-cp-1280-100e_lvis-v1.py',
          '../_base_/freeze_backbone_runner.py']
