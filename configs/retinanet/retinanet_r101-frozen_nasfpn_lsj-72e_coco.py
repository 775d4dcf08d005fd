# Twin of retinanet_r101-ft_nasfpn_lsj-72e_coco.py
# with the ImageNet backbone frozen: only neck and heads train.
_base_ = ['./retinanet_r101-ft_nasfpn_lsj-72e_coco.py', '../_base_/freeze_backbone.py']
