# Control: Faster R-CNN + NAS-FPN on ResNet-RS-101, the twin of the paper's official
# fastrcnn_resnet101_nasfpn_72epochs.yaml with the backbone fine-tuned (docs/configs.md compares
# them key by key).
_base_ = [
    '../_base_/models/faster-rcnn_rs101_nasfpn_lsj.py',
    '../_base_/common/lsj-72e_coco-detection.py',
]
