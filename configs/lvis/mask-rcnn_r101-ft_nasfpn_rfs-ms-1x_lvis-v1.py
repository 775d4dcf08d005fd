# Control: LVIS v1 Mask R-CNN R101 + NAS-FPN, ImageNet backbone fine-tuned.
_base_ = './mask-rcnn_r50-ft_nasfpn_rfs-ms-1x_lvis-v1.py'
model = dict(
    backbone=dict(depth=101,
                  init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')))
