# retinanet_vit_sfp_lsj.py for ViTs with 14-pixel patches (DINOv2, EVA-02): pyramid strides
# 7-112 and inputs padded to a multiple of 112 (a 1024 px LSJ batch: 1120 px, 80 x 80 tokens).
_base_ = './retinanet_vit_sfp_lsj.py'

model = dict(
    data_preprocessor=dict(
        pad_size_divisor={{_base_.vit14_pad}},
        batch_augments=[
            dict(type='BatchFixedSizePad', size={{_base_.vit14_lsj_pad}})]),
    backbone=dict(patch_size=14),
    bbox_head=dict(anchor_generator=dict(strides={{_base_.vit14_strides}})))
