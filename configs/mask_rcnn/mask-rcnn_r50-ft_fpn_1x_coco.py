# Control: stock mmdet Mask R-CNN R50-FPN 1x, ImageNet backbone fine-tuned.
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'
