# Twin of mask-rcnn_r101-ft_fpn_rfs-ms-1x_lvis-v1.py with the ImageNet backbone frozen
# (custom_imports comes from the twin).
_base_ = ['./mask-rcnn_r101-ft_fpn_rfs-ms-1x_lvis-v1.py', '../_base_/freeze_backbone_runner.py']
