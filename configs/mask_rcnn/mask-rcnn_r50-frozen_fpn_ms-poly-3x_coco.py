# Twin of mask-rcnn_r50-ft_fpn_ms-poly-3x_coco.py
# with the ImageNet backbone frozen: only neck and heads train.
_base_ = ['./mask-rcnn_r50-ft_fpn_ms-poly-3x_coco.py', '../_base_/freeze_backbone.py']
