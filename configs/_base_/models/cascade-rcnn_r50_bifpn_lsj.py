# The paper's Cascade R-CNN with mmfrozen's StackedBiFPN on P3-P7 (the capacity-dial neck).
_base_ = './cascade-rcnn_r50_nasfpn_lsj.py'

bifpn_repeats = 5  # stacked top-down + bottom-up stages (depth dial; as NAS-FPN's 5 repeats)

model = dict(
    neck=dict(
        _delete_=True,
        type='StackedBiFPN',
        in_channels=[256, 512, 1024, 2048],
        out_channels=256,  # width dial; rpn_head and roi_head in_channels must follow it
        num_outs=5,
        num_repeats=bifpn_repeats,
        start_level=1))
