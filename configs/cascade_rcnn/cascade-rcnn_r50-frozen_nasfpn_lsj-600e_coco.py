# Twin of cascade-rcnn_r50-ft_nasfpn_lsj-600e_coco.py
# with the ImageNet backbone frozen: only neck and heads train.
_base_ = ['./cascade-rcnn_r50-ft_nasfpn_lsj-600e_coco.py', '../_base_/freeze_backbone.py']
