# Twin of faster-rcnn_r50-ft_fpn_ms-3x_coco.py
# with the ImageNet backbone frozen: only neck and heads train.
_base_ = ['./faster-rcnn_r50-ft_fpn_ms-3x_coco.py', '../_base_/freeze_backbone.py']
