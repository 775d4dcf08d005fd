# Control: Cascade R-CNN R50 + NAS-FPN,
# ImageNet (torchvision) backbone fine-tuned, LSJ 600 epochs.
_base_ = [
    '../_base_/models/cascade-rcnn_r50_nasfpn_lsj.py',
    '../_base_/common/lsj-600e_coco-detection.py'
]
