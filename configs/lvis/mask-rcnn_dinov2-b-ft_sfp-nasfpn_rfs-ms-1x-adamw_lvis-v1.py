# Control: LVIS v1 Mask R-CNN on DINOv2 ViT-B/14 (self-supervised on LVD-142M; mmpretrain's
# conversion of the official weights, headless), ViTDet's simple feature pyramid + NAS-FPN,
# backbone fine-tuned. LVIS data, repeat-factor sampling and test settings of
# ./mask-rcnn_r50-ft_nasfpn_rfs-ms-1x_lvis-v1.py; AdamW.
_base_ = [
    './mask-rcnn_r50-ft_nasfpn_rfs-ms-1x_lvis-v1.py', '../_base_/models/vit_sfp-nasfpn.py',
    '../_base_/common/vit_adamw.py'
]

checkpoint = 'https://download.openmmlab.com/mmpretrain/v1.0/dinov2/vit-base-p14_dinov2-pre_3rdparty_20230426-ba246503.pth'  # noqa: E501

model = dict(
    data_preprocessor=dict(pad_size_divisor={{_base_.vit14_pad}}),
    backbone=dict(
        _delete_=True,
        type='mmpretrain.VisionTransformer',
        arch='base',
        img_size=518,
        layer_scale_init_value=1e-5,
        patch_size=14,
        out_type='featmap',
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint, prefix='backbone.')),
    neck={{_base_.vit_neck}},
    rpn_head=dict(anchor_generator=dict(strides={{_base_.vit14_strides}})),
    roi_head=dict(
        bbox_roi_extractor=dict(featmap_strides={{_base_.vit14_roi_strides}}),
        mask_roi_extractor=dict(featmap_strides={{_base_.vit14_roi_strides}})))
optim_wrapper = {{_base_.vit_optim_wrapper}}
