# Control: Mask R-CNN on EVA-02 ViT-S/14 (MIM pre-training on ImageNet-21k with EVA-CLIP targets;
# mmpretrain's conversion, headless), ViTDet's simple feature pyramid + NAS-FPN, backbone
# fine-tuned; LSJ 72 epochs, AdamW.
_base_ = [
    '../_base_/models/mask-rcnn_vit-p14_sfp-nasfpn_lsj.py',
    '../_base_/common/lsj-72e-adamw_coco-instance.py'
]

checkpoint = 'https://download.openmmlab.com/mmpretrain/v1.0/eva02/eva02-small-p14_pre_in21k_20230505-3175f463.pth'  # noqa: E501

model = dict(
    # EVA-02 was pre-trained on CLIP-normalised images (mmpretrain's EVA-02 configs)
    data_preprocessor=dict(
        mean=[0.48145466 * 255, 0.4578275 * 255, 0.40821073 * 255],
        std=[0.26862954 * 255, 0.26130258 * 255, 0.27577711 * 255]),
    neck={{_base_.vit_s_neck}},  # ViT-S: 384 channels into the pyramid
    backbone=dict(
        type='ViTEVA02Det',  # mmpretrain's ViTEVA02, RoPE tables outside the state
        arch='s',
        img_size=224,
        sub_ln=True,
        final_norm=False,
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint, prefix='backbone.')))
