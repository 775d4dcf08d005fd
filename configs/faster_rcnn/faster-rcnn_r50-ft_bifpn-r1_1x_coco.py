# Control: as faster-rcnn_r50-ft_bifpn-r3_1x_coco.py with 1 fusion stage.
_base_ = './faster-rcnn_r50-ft_bifpn-r3_1x_coco.py'

bifpn_repeats = 1  # stacked top-down + bottom-up fusion stages (the depth dial)

model = dict(neck=dict(num_repeats=bifpn_repeats))
