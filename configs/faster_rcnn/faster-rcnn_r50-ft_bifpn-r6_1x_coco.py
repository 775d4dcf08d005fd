# Control: as faster-rcnn_r50-ft_bifpn-r3_1x_coco.py with 6 fusion stages.
_base_ = './faster-rcnn_r50-ft_bifpn-r3_1x_coco.py'

bifpn_repeats = 6  # stacked top-down + bottom-up fusion stages (the depth dial)

model = dict(neck=dict(num_repeats=bifpn_repeats))
