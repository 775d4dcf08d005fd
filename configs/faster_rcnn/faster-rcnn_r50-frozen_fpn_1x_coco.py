# Twin of faster-rcnn_r50-ft_fpn_1x_coco.py with the ImageNet backbone frozen.
_base_ = ['./faster-rcnn_r50-ft_fpn_1x_coco.py', '../_base_/freeze_backbone.py']
