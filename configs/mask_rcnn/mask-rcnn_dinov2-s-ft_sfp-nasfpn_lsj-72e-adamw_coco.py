# Control: Mask R-CNN on DINOv2 ViT-S/14 (self-supervised on LVD-142M; mmpretrain's conversion of
# the official weights, headless), ViTDet's simple feature pyramid + NAS-FPN, backbone fine-tuned;
# LSJ 72 epochs, AdamW: ./mask-rcnn_dinov2-b-ft_sfp-nasfpn_lsj-72e-adamw_coco.py at the small
# size.
_base_ = './mask-rcnn_dinov2-b-ft_sfp-nasfpn_lsj-72e-adamw_coco.py'

checkpoint = 'https://download.openmmlab.com/mmpretrain/v1.0/dinov2/vit-small-p14_dinov2-pre_3rdparty_20230426-5641ca5a.pth'  # noqa: E501

model = dict(
    neck={{_base_.vit_s_neck}},  # ViT-S: 384 channels into the pyramid
    backbone=dict(arch='dinov2-s', init_cfg=dict(checkpoint=checkpoint)))
