# Control: LVIS v1 Cascade Mask R-CNN on CLIP ViT-B/16 (OpenAI image-text pre-training; mmpretrain
# 1.2 converts the B/16 tower only with its ImageNet-1k fine-tune, timm's
# vit_base_patch16_clip_224.openai_ft_in1k), ViTDet's simple feature pyramid + NAS-FPN, backbone
# fine-tuned. LVIS data, repeat-factor sampling and test settings of
# ./cascade-mask-rcnn_r50-ft_nasfpn_rfs-ms-1x_lvis-v1.py; AdamW.
_base_ = [
    './cascade-mask-rcnn_r50-ft_nasfpn_rfs-ms-1x_lvis-v1.py', '../_base_/models/vit_sfp-nasfpn.py',
    '../_base_/common/vit_adamw.py'
]

checkpoint = 'https://download.openmmlab.com/mmclassification/v0/clip/clip-vit-base-p16_openai-pre_3rdparty_in1k_20221220-c7d9c899.pth'  # noqa: E501

model = dict(
    data_preprocessor=dict(pad_size_divisor={{_base_.vit_pad}}),
    backbone=dict(
        _delete_=True,
        type='mmpretrain.VisionTransformer',
        arch='b',
        img_size=224,
        patch_size=16,
        out_type='featmap',
        drop_path_rate=0.1,
        pre_norm=True,  # CLIP's LayerNorm before the first block
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint, prefix='backbone.')),
    neck={{_base_.vit_neck}},
    rpn_head=dict(anchor_generator=dict(strides={{_base_.vit_strides}})),
    roi_head=dict(
        bbox_roi_extractor=dict(featmap_strides={{_base_.vit_roi_strides}}),
        mask_roi_extractor=dict(featmap_strides={{_base_.vit_roi_strides}})))
optim_wrapper = {{_base_.vit_optim_wrapper}}
