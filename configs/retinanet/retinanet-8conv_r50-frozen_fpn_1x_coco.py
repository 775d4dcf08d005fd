# Twin of retinanet-8conv_r50-ft_fpn_1x_coco.py
# with the ImageNet backbone frozen: only neck and heads train.
_base_ = ['./retinanet-8conv_r50-ft_fpn_1x_coco.py', '../_base_/freeze_backbone.py']
