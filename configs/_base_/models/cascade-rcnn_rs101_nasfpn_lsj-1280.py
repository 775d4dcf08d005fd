# Cascade R-CNN + NAS-FPN on ResNet-RS-101 at 1280 px as the paper's official
# fastrcnn_resnet101_nasfpn_cascade_*.yaml builds it (./resnet-rs101.py; docs/configs.md
# compares them key by key). Goes with a lsj-1280-* schedule.
_base_ = ['./cascade-rcnn_r50_nasfpn_lsj.py', './resnet-rs101.py']
custom_imports = dict(imports=['mmfrozen'], allow_failed_imports=False)  # ResNetRS

model = dict(
    backbone={{_base_.rs101_backbone}},
    # stages at IoU 0.5 / 0.7 / 0.8 (`cascade_iou_thresholds: [0.7, 0.8]`)
    train_cfg=dict(rcnn={{_base_.paper_cascade_rcnn_train_cfg}}),
    # 1280 px batches (`input_size: [1280, 1280, 3]`)
    data_preprocessor=dict(
        batch_augments=[dict(type='BatchFixedSizePad', size=(1280, 1280))]))
