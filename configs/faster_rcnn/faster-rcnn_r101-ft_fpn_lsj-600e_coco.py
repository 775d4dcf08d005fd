# Control: Faster R-CNN R101 + FPN,
# ImageNet (torchvision) backbone fine-tuned, LSJ 600 epochs.
_base_ = [
    '../_base_/models/faster-rcnn_r50_fpn_lsj.py',
    '../_base_/common/lsj-600e_coco-detection.py'
]

model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101')))
