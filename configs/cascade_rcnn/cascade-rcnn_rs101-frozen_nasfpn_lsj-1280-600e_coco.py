# The paper's official fastrcnn_resnet101_nasfpn_cascade_600epochs.yaml (frozen ResNet-RS-101): twin
# of cascade-rcnn_rs101-ft_nasfpn_lsj-1280-600e_coco.py with the ImageNet backbone frozen;
# custom_imports comes from the twin.
_base_ = ['./cascade-rcnn_rs101-ft_nasfpn_lsj-1280-600e_coco.py',
          '../_base_/freeze_backbone_runner.py']
