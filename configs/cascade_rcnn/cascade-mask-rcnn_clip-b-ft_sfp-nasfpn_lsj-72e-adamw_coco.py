# Control: the paper's Cascade Mask R-CNN on CLIP ViT-B/16 (OpenAI image-text pre-training;
# mmpretrain 1.2 converts the B/16 tower only with its ImageNet-1k fine-tune, timm's
# vit_base_patch16_clip_224.openai_ft_in1k), ViTDet's simple feature pyramid + NAS-FPN, backbone
# fine-tuned; LSJ 72 epochs, AdamW.
_base_ = [
    '../_base_/models/cascade-mask-rcnn_vit_sfp-nasfpn_lsj.py',
    '../_base_/common/lsj-72e-adamw_coco-instance.py'
]

checkpoint = 'https://download.openmmlab.com/mmclassification/v0/clip/clip-vit-base-p16_openai-pre_3rdparty_in1k_20221220-c7d9c899.pth'  # noqa: E501

model = dict(
    backbone=dict(
        pre_norm=True,  # CLIP's LayerNorm before the first block
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint, prefix='backbone.')))
