# Twin of faster-rcnn_r50-ft_bifpn-r6_1x_coco.py
# with the ImageNet backbone frozen: only neck and heads train.
_base_ = ['./faster-rcnn_r50-ft_bifpn-r6_1x_coco.py', '../_base_/freeze_backbone.py']
