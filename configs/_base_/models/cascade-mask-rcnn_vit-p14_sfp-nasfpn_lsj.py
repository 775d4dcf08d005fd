# cascade-mask-rcnn_vit_sfp-nasfpn_lsj.py for ViTs with 14-pixel patches (DINOv2, EVA-02):
# pyramid strides 7-112 and inputs padded to a multiple of 112 (8 x 14), so that NAS-FPN's levels
# halve exactly.
_base_ = './cascade-mask-rcnn_vit_sfp-nasfpn_lsj.py'

model = dict(
    data_preprocessor=dict(
        pad_size_divisor={{_base_.vit14_pad}},
        batch_augments=[
            dict(type='BatchFixedSizePad', size={{_base_.vit14_lsj_pad}}, pad_mask=True)]),
    backbone=dict(patch_size=14),
    rpn_head=dict(anchor_generator=dict(strides={{_base_.vit14_strides}})),
    roi_head=dict(
        bbox_roi_extractor=dict(featmap_strides={{_base_.vit14_roi_strides}}),
        mask_roi_extractor=dict(featmap_strides={{_base_.vit14_roi_strides}})))
