# Control: Mask R-CNN on EVA-02 ViT-S/14 (MIM pre-training on ImageNet-21k with EVA-CLIP targets;
# mmpretrain's conversion, headless), ViTDet's simple feature pyramid + NAS-FPN, backbone
# fine-tuned; LSJ 72 epochs, AdamW: ./mask-rcnn_eva02-b-ft_sfp-nasfpn_lsj-72e-adamw_coco.py at
# the small size.
_base_ = './mask-rcnn_eva02-b-ft_sfp-nasfpn_lsj-72e-adamw_coco.py'

checkpoint = 'https://download.openmmlab.com/mmpretrain/v1.0/eva02/eva02-small-p14_pre_in21k_20230505-3175f463.pth'  # noqa: E501

model = dict(
    neck={{_base_.vit_s_neck}},  # ViT-S: 384 channels into the pyramid
    backbone=dict(arch='s', init_cfg=dict(checkpoint=checkpoint)))
