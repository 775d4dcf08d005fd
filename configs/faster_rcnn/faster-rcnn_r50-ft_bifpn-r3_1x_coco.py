# Control: Faster R-CNN R50 + StackedBiFPN (3 repeats, 256 wide) on P3-P7, mmdet 1x schedule,
# ImageNet backbone fine-tuned. The -r1 / -r6 / -w128 variants turn the capacity dial.
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'

bifpn_repeats = 3  # stacked top-down + bottom-up fusion stages (the depth dial)
bifpn_channels = 256  # width of every pyramid level (the width dial); the heads follow it

model = dict(
    data_preprocessor=dict(pad_size_divisor=128),  # P7 has stride 128: sizes must divide it
    neck=dict(
        _delete_=True,
        type='StackedBiFPN',
        in_channels=[256, 512, 1024, 2048],
        out_channels=bifpn_channels,
        num_outs=5,
        num_repeats=bifpn_repeats,
        start_level=1),  # C3..C5 in, P3..P7 out
    # anchors of 4 x stride on P3-P7: 32 .. 512 pixels, the sizes of mmdet's P2-P6 FPN
    rpn_head=dict(
        in_channels=bifpn_channels,
        feat_channels=bifpn_channels,
        anchor_generator=dict(scales=[4], strides=[8, 16, 32, 64, 128])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=bifpn_channels, featmap_strides=[8, 16, 32, 64]),
        bbox_head=dict(in_channels=bifpn_channels)))
