# Control: RetinaNet + NAS-FPN on ResNet-RS-101, the twin of the paper's official
# retinanet_resnet101_nasfpn_600epochs.yaml with the backbone fine-tuned (docs/configs.md compares
# them key by key).
_base_ = [
    '../_base_/models/retinanet_r50_nasfpn_lsj.py',
    '../_base_/common/lsj-640-600e-b256_coco-detection.py',
    '../_base_/models/resnet-rs101.py',
]
custom_imports = dict(imports=['mmfrozen'], allow_failed_imports=False)  # ResNetRS

model = dict(
    # 640 px batches (TF Model Garden's RetinaNet input size)
    data_preprocessor=dict(
        batch_augments=[dict(type='BatchFixedSizePad', size=(640, 640))]),
    backbone={{_base_.rs101_backbone}})
