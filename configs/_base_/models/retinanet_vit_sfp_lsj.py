# RetinaNet (P3-P7, 4-conv heads) on a plain ViT-B/16 (mmpretrain) under ViTDet's simple feature
# pyramid alone: P3-P5 resampled from the last ViT map (x2, x1, x0.5), P6 and P7 by stride-2 max
# pooling of P5 and P6; batches padded to the LSJ crop and to a multiple of P7's stride. A light
# decoder: on a frozen ViT-B at 1024 px the backbone's forward is about half of a training step
# (docs/train_cost.md, "Sweeps").
_base_ = ['./retinanet_r50_fpn_lsj.py', './vit_sfp-nasfpn.py']
# mmfrozen registers SimpleFeaturePyramid and imports mmpretrain's backbones
custom_imports = dict(imports=['mmfrozen'], allow_failed_imports=False)

model = dict(
    data_preprocessor=dict(pad_size_divisor={{_base_.vit_pad}}),
    backbone={{_base_.vit_backbone}},
    neck=dict(
        _delete_=True,
        type='SimpleFeaturePyramid',
        in_channels={{_base_.vit_channels}},
        out_channels={{_base_.nasfpn_channels}},
        scale_factors=(2.0, 1.0, 0.5),  # P3-P5
        num_outs=5),  # P6, P7 pooled from P5, P6
    bbox_head=dict(anchor_generator=dict(strides={{_base_.vit_strides}})))
