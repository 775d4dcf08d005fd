# Control: stock mmdet Faster R-CNN R50-FPN 1x, ImageNet (torchvision) backbone fine-tuned.
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
