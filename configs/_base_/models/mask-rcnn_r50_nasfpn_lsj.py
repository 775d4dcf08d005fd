# Mask R-CNN R50 with mmdet's NAS-FPN on P3-P7 (paper: 5 repeats, 256 channels).
_base_ = ['./mask-rcnn_r50_fpn_lsj.py', './pyramids_p3-p7.py']

model = dict(
    data_preprocessor=dict(pad_size_divisor=_base_.pyramid_pad_size_divisor),
    neck=dict(_base_.nasfpn, _delete_=True),
    rpn_head=dict(anchor_generator=_base_.pyramid_anchor_generator),
    roi_head=dict(
        bbox_roi_extractor=dict(featmap_strides=_base_.pyramid_roi_strides),
        mask_roi_extractor=dict(featmap_strides=_base_.pyramid_roi_strides)))
