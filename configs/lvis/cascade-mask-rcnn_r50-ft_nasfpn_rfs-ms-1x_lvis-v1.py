# Control: LVIS v1 Cascade Mask R-CNN R50 + NAS-FPN (the paper's highest-capacity decoder),
# ImageNet backbone fine-tuned. NAS-FPN on P3-P7, 5 repeats, 256 channels.
_base_ = './cascade-mask-rcnn_r50-ft_fpn_rfs-ms-1x_lvis-v1.py'

nasfpn_repeats = 5  # paper: 5 stacked NAS-FPN cells
channels = 256

model = dict(
    # the five NAS-FPN levels halve down to stride 128: pad inputs to a multiple of it
    data_preprocessor=dict(pad_size_divisor=128),
    neck=dict(
        _delete_=True,
        type='NASFPN',
        in_channels=[256, 512, 1024, 2048],
        out_channels=channels,
        num_outs=5,
        stack_times=nasfpn_repeats,
        start_level=1,  # C3..C5 in, P6 and P7 by extra downsampling
        norm_cfg=dict(type='BN', requires_grad=True)),
    rpn_head=dict(
        in_channels=channels,
        feat_channels=channels,
        # strides 8..128 with scale 4 keep mmdet's anchor sizes 32..512 of FPN P2-P6
        anchor_generator=dict(scales=[4], strides=[8, 16, 32, 64, 128])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=channels, featmap_strides=[8, 16, 32, 64]),
        mask_roi_extractor=dict(out_channels=channels, featmap_strides=[8, 16, 32, 64])))
