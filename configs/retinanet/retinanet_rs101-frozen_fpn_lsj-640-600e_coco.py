# The paper's official retinanet_resnet101_fpn_600epochs.yaml (frozen ResNet-RS-101): twin of
# retinanet_rs101-ft_fpn_lsj-640-600e_coco.py with the ImageNet backbone frozen. (custom_imports
# comes from the twin).
_base_ = ['./retinanet_rs101-ft_fpn_lsj-640-600e_coco.py', '../_base_/freeze_backbone_runner.py']
