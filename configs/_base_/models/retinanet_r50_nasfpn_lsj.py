# RetinaNet R50 with mmdet's NAS-FPN on P3-P7 (paper: 5 repeats, 256 channels).
_base_ = ['./retinanet_r50_fpn_lsj.py', './pyramids_p3-p7.py']

model = dict(
    data_preprocessor=dict(pad_size_divisor=_base_.pyramid_pad_size_divisor),
    neck=dict(_base_.nasfpn, _delete_=True))
