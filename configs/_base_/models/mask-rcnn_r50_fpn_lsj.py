# Mask R-CNN R50-FPN on LSJ with the paper's 4conv2fc GN box head; batches (and masks) padded
# to the fixed LSJ crop.
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'

lsj_size = (1024, 1024)  # LSJ crop; batches are padded to it
head_norm = dict(type='GN', num_groups=32, requires_grad=True)  # norm of the RoI head convs
roi_convs = 4  # 3x3 convs of the RoI box head (paper: 4)
roi_fcs = 2  # fully connected layers after them (paper: 2)

model = dict(
    data_preprocessor=dict(
        batch_augments=[dict(type='BatchFixedSizePad', size=lsj_size, pad_mask=True)]),
    roi_head=dict(
        bbox_head=dict(
            type='ConvFCBBoxHead',
            num_shared_convs=roi_convs,
            num_shared_fcs=roi_fcs,
            conv_out_channels=256,
            norm_cfg=head_norm)))
