# Control: Mask R-CNN on DINOv2 ViT-S/14 (self-supervised on LVD-142M; mmpretrain's conversion of
# the official weights, headless), ViTDet's simple feature pyramid + NAS-FPN, backbone fine-tuned;
# LSJ 72 epochs, AdamW.
_base_ = [
    '../_base_/models/mask-rcnn_vit-p14_sfp-nasfpn_lsj.py',
    '../_base_/common/lsj-72e-adamw_coco-instance.py'
]

checkpoint = 'https://download.openmmlab.com/mmpretrain/v1.0/dinov2/vit-small-p14_dinov2-pre_3rdparty_20230426-5641ca5a.pth'  # noqa: E501

model = dict(
    neck={{_base_.vit_s_neck}},  # ViT-S: 384 channels into the pyramid
    backbone=dict(
        arch='dinov2-s',
        img_size=518,
        layer_scale_init_value=1e-5,
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint, prefix='backbone.')))
