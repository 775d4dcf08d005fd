# The paper's Cascade R-CNN with mmdet's NAS-FPN on P3-P7 (5 repeats, 256 channels).
_base_ = './cascade-rcnn_r50_fpn_lsj.py'

nasfpn_repeats = 5  # stacked NAS-FPN cells, `stack_times` (paper: 5)
neck_norm = dict(type='BN', requires_grad=True)  # norm of the NAS-FPN convs

model = dict(
    data_preprocessor=dict(pad_size_divisor=128),  # P7 has stride 128: sizes must divide it
    neck=dict(
        _delete_=True,
        type='NASFPN',
        in_channels=[256, 512, 1024, 2048],
        out_channels=256,
        num_outs=5,
        stack_times=nasfpn_repeats,
        start_level=1,  # C3..C5 in, P3..P7 out
        norm_cfg=neck_norm),
    # anchors of 4 x stride on P3-P7: 32 .. 512 pixels, the sizes of mmdet's P2-P6 FPN
    rpn_head=dict(anchor_generator=dict(scales=[4], strides=[8, 16, 32, 64, 128])),
    roi_head=dict(bbox_roi_extractor=dict(featmap_strides=[8, 16, 32, 64])))
