# Control: RetinaNet + FPN on ResNet-RS-101, the twin of the paper's official
# retinanet_resnet101_fpn_72epochs.yaml with the backbone fine-tuned (docs/configs.md compares
# them key by key).
_base_ = [
    '../_base_/models/retinanet_rs101_fpn_lsj-640.py',
    '../_base_/common/lsj-640-72e-b256_coco-detection.py',
]
