# Control: stock mmdet RetinaNet R50-FPN 1x, ImageNet backbone fine-tuned.
_base_ = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'
