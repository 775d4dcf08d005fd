# Control: stock mmdet Faster R-CNN R50-FPN, multi-scale 3x, ImageNet backbone fine-tuned.
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_ms-3x_coco.py'
