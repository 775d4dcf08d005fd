# RetinaNet + FPN on ResNet-RS-101 at 640 px as the paper's official
# retinanet_resnet101_fpn_*.yaml builds it (./resnet-rs101.py; docs/configs.md compares them key
# by key). Goes with a lsj-640-* schedule.
_base_ = ['./retinanet_r50_fpn_lsj.py', './resnet-rs101.py']
custom_imports = dict(imports=['mmfrozen'], allow_failed_imports=False)  # ResNetRS

model = dict(
    backbone={{_base_.rs101_backbone}},
    # TF Model Garden's FPN: P6 by a 3x3 stride-2 conv on P5, P7 on the activated P6
    neck=dict(add_extra_convs='on_output', relu_before_extra_convs=True),
    # 640 px batches (TF Model Garden's RetinaNet input size)
    data_preprocessor=dict(batch_augments=[dict(type='BatchFixedSizePad', size=(640, 640))]))
