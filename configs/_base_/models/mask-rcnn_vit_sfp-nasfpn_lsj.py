# Mask R-CNN on a plain ViT-B/16 (mmpretrain) with ViTDet's simple feature pyramid under the
# paper's NAS-FPN (P3-P7), 4conv2fc GN box head, batches padded to the LSJ crop.
_base_ = ['./mask-rcnn_r50_nasfpn_lsj.py', './vit_sfp-nasfpn.py']
# mmfrozen registers SimpleFeaturePyramid and the LoRA ViTs and imports mmpretrain's backbones
custom_imports = dict(imports=['mmfrozen'], allow_failed_imports=False)

model = dict(
    data_preprocessor=dict(pad_size_divisor={{_base_.vit_pad}}),
    backbone={{_base_.vit_backbone}},
    neck={{_base_.vit_neck}},
    rpn_head=dict(anchor_generator=dict(strides={{_base_.vit_strides}})),
    roi_head=dict(
        bbox_roi_extractor=dict(featmap_strides={{_base_.vit_roi_strides}}),
        mask_roi_extractor=dict(featmap_strides={{_base_.vit_roi_strides}})))
