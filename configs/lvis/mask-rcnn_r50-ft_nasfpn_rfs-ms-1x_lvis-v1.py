# Control: LVIS v1 Mask R-CNN R50 with the paper's NAS-FPN decoder, backbone fine-tuned.
# NAS-FPN on levels P3-P7 (strides 8-128), 5 repeats, 256 channels (paper, Sec. 4).
_base_ = ['./mask-rcnn_r50-ft_fpn_rfs-ms-1x_lvis-v1.py', '../_base_/models/pyramids_p3-p7.py']

model = dict(
    data_preprocessor=dict(pad_size_divisor=_base_.pyramid_pad_size_divisor),
    neck=dict(_base_.nasfpn, _delete_=True),
    rpn_head=dict(anchor_generator=_base_.pyramid_anchor_generator),
    roi_head=dict(
        bbox_roi_extractor=dict(featmap_strides=_base_.pyramid_roi_strides),
        mask_roi_extractor=dict(featmap_strides=_base_.pyramid_roi_strides)))
