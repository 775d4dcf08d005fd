# Mini-study control at the smallest decoder capacity: mmdet's FCOS ResNet-18 config with the
# backbone fine-tuned from the upstream shapes classifier. Changed for a 2-core CPU and 128-px
# images: data, image size, schedule, optimizer, width, pyramid levels (P3-P5) and their regress
# ranges, head depth; every mini-study detector inherits this file and changes its decoder or
# freezes its backbone.
_base_ = 'mmdet::fcos/fcos_r18_fpn_gn-head-center-normbbox-centeronreg-giou_8xb8-amp-lsj-200e_coco.py'  # noqa

# ---- what people change -------------------------------------------------------------------------
data_root = 'work_dirs/mini_study/data/detection/'  # written by the mini-study
pretrained = 'work_dirs/mini_study/upstream/backbone.pth'  # exported by the mini-study
image_size = 128  # px, square; objects are 23-51 px wide
max_iters = 450  # the same for every variant: 450 x 8 = 3600 images, about 5 epochs
val_interval = 90  # 5 validations per run: AP against training time
batch_size = 8
lr = 2e-3  # AdamW, linear warm-up over 10% then cosine decay to 1%
backbone_lr_mult = 0.1  # a fine-tuned backbone learns at 0.1x the decoder's rate
base_channels = 16  # ResNet-18 at quarter width (16-32-64-128), as pretrained upstream
neck_channels = 48  # width of every pyramid level and of the head
head_convs = 2  # stacked convolutions of each head branch (mmdet's FCOS: 4)
# = mmfrozen.datasets.ShapesWorld().classes; the mini-study sets them for any other world
classes = (
    'solid-circle', 'solid-square', 'solid-triangle', 'solid-star', 'solid-cross', 'solid-ring',
    'solid-arrow', 'solid-heart', 'striped-circle', 'striped-square', 'striped-triangle',
    'striped-star', 'striped-cross', 'striped-ring', 'striped-arrow', 'striped-heart',
    'dotted-circle', 'dotted-square', 'dotted-triangle', 'dotted-star', 'dotted-cross',
    'dotted-ring', 'dotted-arrow', 'dotted-heart', 'checkered-circle', 'checkered-square',
    'checkered-triangle', 'checkered-star', 'checkered-cross', 'checkered-ring',
    'checkered-arrow', 'checkered-heart')
# -------------------------------------------------------------------------------------------------

custom_imports = dict(imports=['mmfrozen'], allow_failed_imports=False)
metainfo = dict(classes=classes)
model = dict(
    data_preprocessor=dict(mean=[127.5, 127.5, 127.5], std=[64.0, 64.0, 64.0],
                           batch_augments=None),  # as the upstream classifier normalises
    backbone=dict(
        depth=18,
        base_channels=base_channels,
        out_indices=(1, 2, 3),  # C3-C5: strides 8, 16 and 32
        frozen_stages=-1,  # the control fine-tunes every stage (the paper's FT)
        norm_eval=False,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    neck=dict(
        in_channels=[base_channels * 2**i for i in (1, 2, 3)],
        out_channels=neck_channels,
        start_level=0,
        num_outs=3),  # P3-P5: a 128-px image has no use for P6/P7
    bbox_head=dict(
        num_classes=len(classes),
        in_channels=neck_channels,
        feat_channels=neck_channels,
        stacked_convs=head_convs,
        strides=[8, 16, 32],
        regress_ranges=((-1, 40), (40, 80), (80, 1e8)),  # objects of 23-51 px
        norm_cfg=dict(type='GN', num_groups=neck_channels // 4, requires_grad=True)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(image_size, image_size), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
]
train_dataloader = dict(
    _delete_=True,
    batch_size=batch_size,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='CocoDataset', data_root=data_root, metainfo=metainfo,
                 ann_file='annotations/train.json', data_prefix=dict(img='images/'),
                 filter_cfg=dict(filter_empty_gt=True, min_size=1), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, metainfo=metainfo, ann_file='annotations/val.json',
                 data_prefix=dict(img='images/'), pipeline=test_pipeline))
test_dataloader = val_dataloader
# AP, AP50, AP per LVIS frequency bucket (read from the annotation file's `frequency`) and per
# class (the per-class view of the rare-class claim); faster-coco-eval evaluates (pycocotools'
# numbers, about 15x faster: 5 validations per run)
val_evaluator = dict(_delete_=True, type='CocoFrequencyMetric', ann_file=data_root +
                     'annotations/val.json', metric=['bbox'], classwise=True,
                     backend='faster-coco-eval')
test_evaluator = val_evaluator

train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=val_interval)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=max_iters // 10),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=max_iters // 10, end=max_iters,
         eta_min_ratio=0.01)
]
optim_wrapper = dict(_delete_=True, type='OptimWrapper',
                     optimizer=dict(type='AdamW', lr=lr, weight_decay=0.05),
                     paramwise_cfg=dict(custom_keys=dict(backbone=dict(lr_mult=backbone_lr_mult))),
                     clip_grad=dict(max_norm=35, norm_type=2))
auto_scale_lr = dict(enable=False)
# logged iteration times are exact means over each 15 iterations, and 15 divides the validation
# interval and the run: training time at each validation is the sum of the windows before it
log_interval = 15
default_hooks = dict(
    logger=dict(interval=log_interval),
    checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1),
    visualization=dict(draw=False))
log_processor = dict(by_epoch=False, window_size=log_interval)
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'),
               mp_cfg=dict(mp_start_method='spawn', opencv_num_threads=0))
randomness = dict(seed=0)
