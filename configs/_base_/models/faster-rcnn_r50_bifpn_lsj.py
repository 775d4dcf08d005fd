# Faster R-CNN R50 with mmfrozen's StackedBiFPN on P3-P7: the neck with a capacity dial.
_base_ = './faster-rcnn_r50_nasfpn_lsj.py'

model = dict(neck=dict(_base_.bifpn, _delete_=True))
