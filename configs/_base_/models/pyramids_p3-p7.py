# The paper's feature pyramids on levels P3-P7 (strides 8-128) from C3-C5, 256 channels wide:
# mmdet's NAS-FPN (5 stacked cells, as in the paper) and mmfrozen's StackedBiFPN (the capacity
# dial, 5 repeats to match), and what P3-P7 changes in the rest of a detector. Variables only,
# so every detector applies the same blocks: `neck=dict(_base_.nasfpn, _delete_=True)`.
nasfpn = dict(
    type='NASFPN',
    in_channels=[256, 512, 1024, 2048],
    out_channels=256,
    num_outs=5,
    stack_times=5,  # stacked NAS-FPN cells (paper: 5)
    start_level=1,  # C3..C5 in, P3..P7 out
    norm_cfg=dict(type='BN', requires_grad=True))
bifpn = dict(
    type='StackedBiFPN',
    in_channels=[256, 512, 1024, 2048],
    out_channels=256,  # width dial; rpn_head and roi_head in_channels must follow it
    num_outs=5,
    num_repeats=5,  # stacked top-down + bottom-up stages (depth dial; as NAS-FPN's 5 cells)
    start_level=1)
pyramid_pad_size_divisor = 128  # P7 has stride 128: input sizes must divide it
# anchors of 4 x stride on P3-P7: 32 .. 512 pixels, the sizes of mmdet's P2-P6 FPN
pyramid_anchor_generator = dict(scales=[4], strides=[8, 16, 32, 64, 128])
pyramid_roi_strides = [8, 16, 32, 64]  # RoI features from P3-P6
