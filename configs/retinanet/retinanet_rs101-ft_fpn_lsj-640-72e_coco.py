# Control: RetinaNet + FPN on ResNet-RS-101, the twin of the paper's official
# retinanet_resnet101_fpn_72epochs.yaml with the backbone fine-tuned (docs/configs.md compares
# them key by key).
_base_ = [
    '../_base_/models/retinanet_r50_fpn_lsj.py',
    '../_base_/common/lsj-640-72e-b256_coco-detection.py',
    '../_base_/models/resnet-rs101.py',
]
custom_imports = dict(imports=['mmfrozen'], allow_failed_imports=False)  # ResNetRS

model = dict(
    # 640 px batches (TF Model Garden's RetinaNet input size)
    data_preprocessor=dict(
        batch_augments=[dict(type='BatchFixedSizePad', size=(640, 640))]),
    # TF Model Garden's FPN: P6 by a 3x3 stride-2 conv on P5, P7 on the activated P6
    neck=dict(add_extra_convs='on_output', relu_before_extra_convs=True),
    backbone={{_base_.rs101_backbone}})
