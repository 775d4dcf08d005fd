# The paper's Cascade R-CNN: 3 stages (IoU 0.5 / 0.6 / 0.7) with class-agnostic boxes, a
# 4conv2fc GN box head per stage, class scores averaged over the stages (mmdet's
# CascadeRoIHead does this at test time), every batch padded to the LSJ crop.
# Built on mmdet's Cascade Mask R-CNN with the mask branch switched off, so the Cascade Mask
# R-CNN fragments only switch it back on.
_base_ = 'mmdet::_base_/models/cascade-mask-rcnn_r50_fpn.py'

lsj_size = (1024, 1024)  # LSJ crop; batches are padded to it
head_norm = dict(type='GN', num_groups=32, requires_grad=True)  # norm of the RoI head convs
roi_convs = 4  # 3x3 convs of each stage's box head (paper: 4)
roi_fcs = 2  # fully connected layers after them (paper: 2)
# box-delta normalisation per stage, as in mmdet's Cascade R-CNN
stage_stds = ([0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.1, 0.1], [0.033, 0.033, 0.067, 0.067])

model = dict(
    data_preprocessor=dict(batch_augments=[dict(type='BatchFixedSizePad', size=lsj_size)]),
    roi_head=dict(
        mask_roi_extractor=None,
        mask_head=None,
        bbox_head=[
            dict(
                type='ConvFCBBoxHead',
                num_shared_convs=roi_convs,
                num_shared_fcs=roi_fcs,
                in_channels=256,
                conv_out_channels=256,
                fc_out_channels=1024,
                roi_feat_size=7,
                num_classes=80,
                norm_cfg=head_norm,
                bbox_coder=dict(
                    type='DeltaXYWHBBoxCoder', target_means=[0.0] * 4, target_stds=stds),
                reg_class_agnostic=True,
                loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
                loss_bbox=dict(type='SmoothL1Loss', beta=1.0, loss_weight=1.0))
            for stds in stage_stds
        ]))
