# Control: mmdet's Mask R-CNN with mmpretrain's ConvNeXt-T (ImageNet-1k) + FPN,
# multi-scale-crop 3x, AMP, backbone fine-tuned with AdamW.
_base_ = 'mmdet::convnext/mask-rcnn_convnext-t-p4-w7_fpn_amp-ms-crop-3x_coco.py'
