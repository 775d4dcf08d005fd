# Mini-study upstream: classification pretraining of a quarter-width ResNet-18 with mmpretrain on
# the balanced shapes set (the role ImageNet plays in the paper). The mini-study exports its
# `backbone.*` weights as the checkpoint every detector loads with init_cfg Pretrained.
_base_ = ['mmpretrain::_base_/default_runtime.py']

# ---- what people change -------------------------------------------------------------------------
data_root = 'work_dirs/mini_study/data/classification/'  # written by the mini-study
num_classes = 32  # ShapesWorld(): 8 shapes x 4 textures
image_size = 64  # px; objects are 36-60 px wide, as wide as the detectors' objects
base_channels = 16  # must equal the detectors' backbone width (mmdet ResNet base_channels)
batch_size = 64
max_iters = 1000  # 64 x 1000 = 64000 images, about 16 epochs (600 iterations: 72% top-1)
lr = 0.1  # SGD, linear warm-up over 5% then cosine decay
# -------------------------------------------------------------------------------------------------

custom_imports = dict(imports=['mmpretrain', 'mmfrozen'], allow_failed_imports=False)
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=18, stem_channels=base_channels,
                  base_channels=base_channels, out_indices=(3, ), style='pytorch',
                  # PyTorch's default initialisation: mmpretrain's (fan-out Kaiming normal,
                  # zero-initialised residual branches) reached 65% top-1 in 1000
                  # iterations, PyTorch's 84%
                  zero_init_residual=False, init_cfg=None),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=num_classes, in_channels=base_channels * 8,
              loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1), topk=(1, 5)))
data_preprocessor = dict(num_classes=num_classes, mean=[127.5, 127.5, 127.5],
                         std=[64.0, 64.0, 64.0], to_rgb=True)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=image_size, padding=3, padding_mode='reflect'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=batch_size,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='CustomDataset', data_root=data_root, ann_file='train.txt',
                 data_prefix='images/', with_label=True, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=128,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='CustomDataset', data_root=data_root, ann_file='val.txt',
                 data_prefix='images/', with_label=True, pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator

optim_wrapper = dict(optimizer=dict(type='SGD', lr=lr, momentum=0.9, weight_decay=5e-4,
                                    nesterov=True))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=max_iters // 20),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=max_iters // 20, end=max_iters)
]
train_cfg = dict(by_epoch=False, max_iters=max_iters, val_interval=max_iters)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1))
log_processor = dict(by_epoch=False, window_size=50)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
