# Control: RetinaNet on DINOv2 ViT-B/14 (self-supervised on LVD-142M; mmpretrain's conversion of
# the official weights, headless) under ViTDet's simple feature pyramid alone (P3-P7, no
# NAS-FPN), backbone fine-tuned; LSJ 72 epochs, AdamW.
_base_ = [
    '../_base_/models/retinanet_vit-p14_sfp_lsj.py',
    '../_base_/common/lsj-72e-adamw_coco-detection.py'
]

checkpoint = 'https://download.openmmlab.com/mmpretrain/v1.0/dinov2/vit-base-p14_dinov2-pre_3rdparty_20230426-ba246503.pth'  # noqa: E501

model = dict(
    backbone=dict(
        arch='base',
        img_size=518,
        layer_scale_init_value=1e-5,
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint, prefix='backbone.')))
