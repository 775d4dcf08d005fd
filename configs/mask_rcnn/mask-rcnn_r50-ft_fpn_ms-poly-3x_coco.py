# Control: stock mmdet Mask R-CNN R50-FPN, multi-scale 3x, ImageNet backbone fine-tuned.
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_ms-poly-3x_coco.py'
