# A plain ViT from mmpretrain under ViTDet's simple feature pyramid and the paper's NAS-FPN.
# The pyramid (mmfrozen's SimpleFeaturePyramid) makes three levels from the last ViT map
# (strides patch/2, patch, 2 x patch), NAS-FPN (5 repeats, 256 channels) adds two more and fuses
# all five (P3-P7). Variables only: the detector configs put them in place with
# {{_base_.vit_...}}. Defaults: ViT-B/16; ViT/14 configs use the vit14_* values.
vit_channels = 768  # ViT-B embedding width (ViT-S: 384)
nasfpn_channels = 256  # width of the pyramid levels and of NAS-FPN (paper: 256)
vit_strides = [8, 16, 32, 64, 128]  # P3-P7 for patch 16: 16 / 2 * 2**i
vit_roi_strides = vit_strides[:4]  # RoI features from P3-P6
vit_pad = 128  # inputs padded to a multiple of P7's stride (NAS-FPN halves P3 four times)
vit14_strides = [7, 14, 28, 56, 112]  # P3-P7 for patch 14: 14 / 2 * 2**i
vit14_roi_strides = vit14_strides[:4]
vit14_pad = 112  # 8 x 14: a 1024 px LSJ batch is padded to 1120 px, 80 x 80 tokens
# every training batch padded to the 1024 px LSJ crop rounded up to vit14_pad (a batch of smaller
# crops would otherwise stop at 1024 px, which 14 does not divide)
vit14_lsj_pad = (1120, 1120)

vit_backbone = dict(
    _delete_=True,
    type='mmpretrain.VisionTransformer',
    arch='b',
    patch_size=16,
    img_size=224,  # position-embedding grid of the checkpoint; resized to every input
    out_type='featmap',  # the last layer's tokens as an (N, C, H/patch, W/patch) map
    drop_path_rate=0.1)  # ViTDet's; a frozen ViT runs drop-path in inference mode
# (each detector config sets the backbone's init_cfg: its mmpretrain checkpoint)
vit_neck = [
    dict(
        type='SimpleFeaturePyramid',
        in_channels=vit_channels,
        out_channels=nasfpn_channels,
        scale_factors=(2.0, 1.0, 0.5)),  # P3-P5; NAS-FPN makes P6-P7
    dict(
        type='NASFPN',
        in_channels=[nasfpn_channels] * 3,
        out_channels=nasfpn_channels,
        num_outs=5,
        stack_times=5,  # paper: 5 stacked NAS-FPN cells
        start_level=0,
        norm_cfg=dict(type='BN', requires_grad=True)),
]
vit_s_neck = [dict(vit_neck[0], in_channels=384), vit_neck[1]]  # ViT-S: 384 channels
