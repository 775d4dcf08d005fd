# Mini-study control: the package's Faster R-CNN FPN config (mmdet's bases) with the backbone
# fine-tuned from the upstream shapes classifier. Only data, image size, schedule and the model
# size (to fit a 2-core CPU) change; every mini-study variant inherits this file.
_base_ = '../faster_rcnn/faster-rcnn_r50-ft_fpn_1x_coco.py'

# ---- what people change -------------------------------------------------------------------------
data_root = 'work_dirs/mini_study/data/detection/'  # written by tools/mini_study.py
pretrained = 'work_dirs/mini_study/upstream/backbone.pth'  # exported by tools/mini_study.py
image_size = 128  # px, square; objects are 15-50 px
max_iters = 200  # the same for every variant: 200 x 8 = 1600 images, about 1.6 epochs
batch_size = 8
base_channels = 32  # ResNet-18 at half width (32-64-128-256), as pretrained upstream
neck_channels = 32  # FPN / RPN / RoI width: small next to the backbone, like the paper's FPN
fc_channels = 128  # width of the two shared fc layers of the box head
lr = 0.02  # SGD; mmdet's 0.02 for 16 images scaled to 8 (0.01), x2 for a short schedule
# = mmfrozen.datasets.class_names(48); tools/mini_study.py sets them for other class counts
classes = (
    'solid-circle', 'solid-square', 'solid-triangle', 'solid-pentagon', 'solid-hexagon',
    'solid-star', 'solid-cross', 'solid-ring', 'solid-crescent', 'solid-arrow', 'solid-diamond',
    'solid-heart', 'striped-circle', 'striped-square', 'striped-triangle', 'striped-pentagon',
    'striped-hexagon', 'striped-star', 'striped-cross', 'striped-ring', 'striped-crescent',
    'striped-arrow', 'striped-diamond', 'striped-heart', 'dotted-circle', 'dotted-square',
    'dotted-triangle', 'dotted-pentagon', 'dotted-hexagon', 'dotted-star', 'dotted-cross',
    'dotted-ring', 'dotted-crescent', 'dotted-arrow', 'dotted-diamond', 'dotted-heart',
    'checkered-circle', 'checkered-square', 'checkered-triangle', 'checkered-pentagon',
    'checkered-hexagon', 'checkered-star', 'checkered-cross', 'checkered-ring',
    'checkered-crescent', 'checkered-arrow', 'checkered-diamond', 'checkered-heart')
# -------------------------------------------------------------------------------------------------

custom_imports = dict(imports=['mmfrozen'], allow_failed_imports=False)
metainfo = dict(classes=classes)
model = dict(
    backbone=dict(
        depth=18,
        base_channels=base_channels,
        frozen_stages=-1,  # the control fine-tunes every stage (the paper's FT)
        norm_eval=False,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    neck=dict(in_channels=[base_channels * 2**i for i in range(4)], out_channels=neck_channels),
    rpn_head=dict(
        in_channels=neck_channels,
        feat_channels=neck_channels,
        # anchors of 16-256 px (mmdet's 8 x stride is 32-512 px, for 800-px images)
        anchor_generator=dict(scales=[4])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=neck_channels),
        bbox_head=dict(in_channels=neck_channels, fc_out_channels=fc_channels,
                       num_classes=len(classes))),
    train_cfg=dict(rpn_proposal=dict(nms_pre=1000, max_per_img=300), rcnn=dict(
        sampler=dict(num=128))),
    # score_thr as low as mmdet's LVIS configs: AP counts up to 100 boxes per image
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=300), rcnn=dict(score_thr=0.001)))

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
    batch_size=batch_size,
    num_workers=0,
    persistent_workers=False,
    batch_sampler=None,
    dataset=dict(data_root=data_root, metainfo=metainfo, ann_file='annotations/train.json',
                 data_prefix=dict(img='images/'), filter_cfg=dict(filter_empty_gt=True,
                                                                  min_size=1),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, metainfo=metainfo, ann_file='annotations/val.json',
                 data_prefix=dict(img='images/'), pipeline=test_pipeline))
test_dataloader = val_dataloader
# AP, AP50 and AP per LVIS frequency bucket, read from the annotation file's `frequency`
val_evaluator = dict(_delete_=True, type='CocoFrequencyMetric', ann_file=data_root +
                     'annotations/val.json', metric=['bbox'], classwise=False)
test_evaluator = val_evaluator

train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
                 val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=max_iters // 10),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters,
         milestones=[int(max_iters * 0.75)], gamma=0.1)  # one drop at 75%, as 1x does at 8/12
]
optim_wrapper = dict(optimizer=dict(lr=lr), clip_grad=dict(max_norm=35, norm_type=2))
auto_scale_lr = dict(enable=False)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1),
    visualization=dict(draw=False))
log_processor = dict(by_epoch=False, window_size=20)
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
