# The paper's Cascade R-CNN with mmfrozen's StackedBiFPN on P3-P7 (the capacity-dial neck).
_base_ = './cascade-rcnn_r50_nasfpn_lsj.py'

model = dict(neck=dict(_base_.bifpn, _delete_=True))
