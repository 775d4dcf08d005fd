# Twin of faster-rcnn_r101-ft_fpn_lsj-72e_coco.py
# with the ImageNet backbone frozen: only neck and heads train.
_base_ = ['./faster-rcnn_r101-ft_fpn_lsj-72e_coco.py', '../_base_/freeze_backbone.py']
