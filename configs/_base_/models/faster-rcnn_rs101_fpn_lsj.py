# Faster R-CNN + FPN on ResNet-RS-101 as the paper's official fastrcnn_resnet101_fpn_*.yaml
# builds it (./resnet-rs101.py; docs/configs.md compares them key by key).
_base_ = ['./faster-rcnn_r50_fpn_lsj.py', './resnet-rs101.py']
custom_imports = dict(imports=['mmfrozen'], allow_failed_imports=False)  # ResNetRS

model = dict(
    backbone={{_base_.rs101_backbone}},
    # TF Model Garden's FPN: P6 by a 3x3 stride-2 conv on P5 (mmdet's default: max pooling)
    neck=dict(add_extra_convs='on_output'))
