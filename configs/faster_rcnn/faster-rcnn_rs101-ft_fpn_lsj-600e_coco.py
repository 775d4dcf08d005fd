# Control: Faster R-CNN + FPN on ResNet-RS-101, the twin of the paper's official
# fastrcnn_resnet101_fpn_600epochs.yaml with the backbone fine-tuned (docs/configs.md compares
# them key by key).
_base_ = [
    '../_base_/models/faster-rcnn_r50_fpn_lsj.py',
    '../_base_/common/lsj-600e_coco-detection.py',
    '../_base_/models/resnet-rs101.py',
]
custom_imports = dict(imports=['mmfrozen'], allow_failed_imports=False)  # ResNetRS

model = dict(
    # TF Model Garden's FPN: P6 by a 3x3 stride-2 conv on P5 (mmdet's default: max pooling)
    neck=dict(add_extra_convs='on_output'),
    backbone={{_base_.rs101_backbone}})
