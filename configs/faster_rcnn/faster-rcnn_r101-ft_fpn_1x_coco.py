# Control: stock mmdet Faster R-CNN R101-FPN 1x, ImageNet backbone fine-tuned.
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r101_fpn_1x_coco.py'
