# Control: as faster-rcnn_r50-ft_bifpn-r3_1x_coco.py with 128-channel pyramid levels.
_base_ = './faster-rcnn_r50-ft_bifpn-r3_1x_coco.py'

bifpn_channels = 128  # width of every pyramid level (the width dial); the heads follow it

model = dict(
    neck=dict(out_channels=bifpn_channels),
    rpn_head=dict(in_channels=bifpn_channels, feat_channels=bifpn_channels),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=bifpn_channels),
        bbox_head=dict(in_channels=bifpn_channels)))
