# RetinaNet + NAS-FPN on ResNet-RS-101 at 640 px as the paper's official
# retinanet_resnet101_nasfpn_*.yaml builds it (./resnet-rs101.py; docs/configs.md compares them
# key by key). Goes with a lsj-640-* schedule.
_base_ = ['./retinanet_r50_nasfpn_lsj.py', './resnet-rs101.py']
custom_imports = dict(imports=['mmfrozen'], allow_failed_imports=False)  # ResNetRS

model = dict(
    backbone={{_base_.rs101_backbone}},
    # 640 px batches (TF Model Garden's RetinaNet input size)
    data_preprocessor=dict(batch_augments=[dict(type='BatchFixedSizePad', size=(640, 640))]))
