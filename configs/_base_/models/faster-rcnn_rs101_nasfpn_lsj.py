# Faster R-CNN + NAS-FPN on ResNet-RS-101 as the paper's official
# fastrcnn_resnet101_nasfpn_*.yaml builds it (./resnet-rs101.py; docs/configs.md compares them
# key by key).
_base_ = ['./faster-rcnn_r50_nasfpn_lsj.py', './resnet-rs101.py']
custom_imports = dict(imports=['mmfrozen'], allow_failed_imports=False)  # ResNetRS

model = dict(backbone={{_base_.rs101_backbone}})
