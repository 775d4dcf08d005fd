# The paper's official retinanet_resnet101_nasfpn_72epochs.yaml (frozen ResNet-RS-101): twin of
# retinanet_rs101-ft_nasfpn_lsj-640-72e_coco.py with the ImageNet backbone frozen. (custom_imports
# comes from the twin).
_base_ = ['./retinanet_rs101-ft_nasfpn_lsj-640-72e_coco.py', '../_base_/freeze_backbone_runner.py']
