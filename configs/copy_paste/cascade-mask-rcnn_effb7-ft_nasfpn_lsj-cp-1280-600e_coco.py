# Control of the paper's large-scale recipe (Sec. 4.4): Cascade Mask R-CNN with an
# EfficientNet-B7 backbone (mmdet's EfficientNet, mmpretrain ImageNet weights) fine-tuned,
# NAS-FPN on P3-P7, 1280 px, large-scale jitter (0.1-2.0) + Copy-Paste augmentation.
# Paper, COCO box/mask AP: fine-tuned 55.9/47.2, frozen 57.0/48.7.
_base_ = [
    '../_base_/models/cascade-mask-rcnn_r50_nasfpn_lsj.py',  # the paper's cascade and NAS-FPN
    'mmdet::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmfrozen'], allow_failed_imports=False)

# --- what people change ----------------------------------------------------------------------
image_size = (1280, 1280)  # paper: 1280 px for the cascade models
arch = 'b7'
checkpoint = 'https://download.openmmlab.com/mmclassification/v0/efficientnet/efficientnet-b7_3rdparty_8xb32-aa_in1k_20220119-bf03951c.pth'  # noqa: E501
num_classes = 80
nasfpn_repeats = 5  # paper: 5 stacked NAS-FPN cells, 256 channels, levels P3-P7
channels = 256
max_epochs = 600  # paper's long schedule
batch_size = 64  # paper: 64 images per step, LR 0.16, SGD, stepped x0.1 twice
samples_per_gpu = 2  # 32 GPUs x 2 images
lr = 0.16
# ----------------------------------------------------------------------------------------------

# LR drops at 2/3 and 17/18 of training, the proportions of the paper's 72-epoch schedule
# (drops at 48 and 68): 600 * 2/3 = 400, 600 * 17/18 = 566.7 -> 567.
milestones = [max_epochs * 2 // 3, round(max_epochs * 17 / 18)]
norm_cfg = dict(type='SyncBN', requires_grad=True)
backbone_channels = [80, 224, 640]  # EfficientNet-B7 stages at strides 8, 16, 32


model = dict(
    data_preprocessor=dict(
        # LSJ crops are padded to the full image size
        batch_augments=[dict(type='BatchFixedSizePad', size=image_size, pad_mask=True)]),
    backbone=dict(
        _delete_=True,
        type='EfficientNet',
        arch=arch,
        drop_path_rate=0.2,
        out_indices=(3, 4, 5),
        frozen_stages=0,
        norm_cfg=dict(type='SyncBN', requires_grad=True, eps=1e-3, momentum=0.01),
        norm_eval=False,
        init_cfg=dict(type='Pretrained', prefix='backbone', checkpoint=checkpoint)),
    neck=dict(
        _base_.nasfpn,
        _delete_=True,
        in_channels=backbone_channels,
        out_channels=channels,
        stack_times=nasfpn_repeats,
        start_level=0,  # C3..C5 in, P6 and P7 by extra downsampling
        norm_cfg=norm_cfg),
    rpn_head=dict(in_channels=channels, feat_channels=channels),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=channels),
        mask_roi_extractor=dict(out_channels=channels),
        # the paper's head (4 conv + 2 fc, class-agnostic boxes) per stage, with SyncBN
        bbox_head=[
            dict(stage, in_channels=channels, conv_out_channels=channels, norm_cfg=norm_cfg,
                 num_classes=num_classes) for stage in _base_.model.roi_head.bbox_head
        ],
        mask_head=dict(num_classes=num_classes, norm_cfg=norm_cfg)))

# --- data: large-scale jitter + Copy-Paste ----------------------------------------------------
dataset_type = 'CocoDataset'
data_root = 'data/coco/'
backend_args = None
load_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomResize', scale=image_size, ratio_range=(0.1, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_type='absolute_range', crop_size=image_size,
         recompute_bbox=True, allow_negative_crop=True),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Pad', size=image_size),
]
train_pipeline = [
    dict(type='CopyPaste', max_num_pasted=100),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=samples_per_gpu,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='MultiImageMixDataset',
        dataset=dict(
            type=dataset_type,
            data_root=data_root,
            ann_file='annotations/instances_train2017.json',
            data_prefix=dict(img='train2017/'),
            filter_cfg=dict(filter_empty_gt=True, min_size=32),
            pipeline=load_pipeline,
            backend_args=backend_args),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instances_val2017.json',
        data_prefix=dict(img='val2017/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoMetric', ann_file=data_root + 'annotations/instances_val2017.json',
                     metric=['bbox', 'segm'], backend_args=backend_args)
test_evaluator = val_evaluator

# --- schedule ---------------------------------------------------------------------------------
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=25)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=lr, momentum=0.9, weight_decay=4e-5),
    clip_grad=dict(max_norm=35, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.067, by_epoch=False, begin=0, end=1000),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=milestones,
         gamma=0.1),
]
auto_scale_lr = dict(enable=False, base_batch_size=batch_size)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=25, max_keep_ckpts=3))
