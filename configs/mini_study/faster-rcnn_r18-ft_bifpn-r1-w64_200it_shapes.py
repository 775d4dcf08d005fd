# More decoder capacity, backbone fine-tuned: the StackedBiFPN neck of
# ../faster_rcnn/faster-rcnn_r50-ft_bifpn-r3_1x_coco.py (P3-P7) at mini-study size, twice as wide
# as the base FPN, and a wider box head.
_base_ = './faster-rcnn_r18-ft_fpn_200it_shapes.py'

bifpn_repeats = 1  # stacked top-down + bottom-up fusion stages (the depth dial)
bifpn_channels = 64  # width of every pyramid level (the width dial); the heads follow it
fc_channels = 256  # the two shared fc layers of the box head (base: 128)

model = dict(
    data_preprocessor=dict(pad_size_divisor=128),  # P7 has stride 128: sizes must divide it
    neck=dict(
        _delete_=True,
        type='StackedBiFPN',
        in_channels={{_base_.model.neck.in_channels}},
        out_channels=bifpn_channels,
        num_outs=5,
        num_repeats=bifpn_repeats,
        start_level=1),  # C3..C5 in, P3..P7 out
    # anchors of 2 x stride on P3-P7: 16 .. 256 pixels, the sizes of the base's P2-P6 anchors
    rpn_head=dict(
        in_channels=bifpn_channels,
        feat_channels=bifpn_channels,
        anchor_generator=dict(scales=[2], strides=[8, 16, 32, 64, 128])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=bifpn_channels, featmap_strides=[8, 16, 32, 64]),
        bbox_head=dict(in_channels=bifpn_channels, fc_out_channels=fc_channels)))
