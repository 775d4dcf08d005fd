# Control: stock mmdet Faster R-CNN ResNeXt-101 32x4d FPN 1x, ImageNet backbone fine-tuned.
_base_ = 'mmdet::faster_rcnn/faster-rcnn_x101-32x4d_fpn_1x_coco.py'
