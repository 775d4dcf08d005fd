# What the paper's released configs (TF Model Garden, projects/backbone_reuse) set beyond mmdet's
# defaults, as variables for the ResNet-RS-101 configs (see docs/configs.md, "Key by key").
# Backbone: ResNet-RS-101 (`resnet.model_id: 101, se_ratio: 0.25, resnetd_shortcut: true,
# replace_stem_max_pool: true, stem_type: v1`): mmfrozen's ResNetRS, timm's resnetrs101 with
# timm's ImageNet weights (its port of the official ResNet-RS-101 trained at 192 px).
rs101_checkpoint = 'https://github.com/rwightman/pytorch-image-models/releases/download/v0.1-rs-weights/resnetrs101_i192_ema-1509bbf6.pth'  # noqa: E501
rs101_backbone = dict(
    _delete_=True,
    type='ResNetRS',
    depth=101,
    out_indices=(1, 2, 3, 4),  # C2-C5, strides 4-32, 256-2048 channels as mmdet's ResNet
    init_cfg=dict(type='Pretrained', checkpoint=rs101_checkpoint))


# Cascade stages at IoU 0.5, 0.7 and 0.8 (`roi_sampler.cascade_iou_thresholds: [0.7, 0.8]`
# after the first stage's 0.5); otherwise mmdet's cascade sampling.
def _stage(iou):
    return dict(
        assigner=dict(
            type='MaxIoUAssigner',
            pos_iou_thr=iou,
            neg_iou_thr=iou,
            min_pos_iou=iou,
            match_low_quality=False,
            ignore_iof_thr=-1),
        sampler=dict(
            type='RandomSampler', num=512, pos_fraction=0.25, neg_pos_ub=-1,
            add_gt_as_proposals=True),
        mask_size=28,
        pos_weight=-1,
        debug=False)


paper_cascade_rcnn_train_cfg = [_stage(0.5), _stage(0.7), _stage(0.8)]
