# The paper's LSJ schedule, 72 epochs, COCO boxes and masks. Same recipe as
# lsj-72e_coco-detection.py (batch 64, LR 0.16, drops at epochs 48 and 68) on mmdet's LSJ
# instance-segmentation base.
_base_ = 'mmdet::common/lsj-100e_coco-instance.py'

num_gpus = 8  # GPUs the recipe assumes
samples_per_gpu = 8  # images per GPU
batch_size = num_gpus * samples_per_gpu  # 8 x 8 = 64 images per step (paper: 64)
base_lr = 0.16  # paper's LR at batch 64; linear scaling rule: lr = 0.16 * batch / 64
repeat = 4  # COCO passes per loop epoch (mmdet's RepeatDataset)
epochs = 72  # COCO passes in total (paper)
lr_drop_epochs = (48, 68)  # COCO passes after which LR is multiplied by 0.1 (paper)
max_epochs = epochs // repeat  # 72 / 4 = 18 loop epochs

train_dataloader = dict(batch_size=samples_per_gpu, dataset=dict(times=repeat))
train_cfg = dict(max_epochs=max_epochs, val_interval=2)  # validate every 2 x 4 = 8 epochs
param_scheduler = [
    dict(type='LinearLR', start_factor=0.067, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[e // repeat for e in lr_drop_epochs],  # 48 / 4 = 12, 68 / 4 = 17
        gamma=0.1)
]
optim_wrapper = dict(optimizer=dict(lr=base_lr, momentum=0.9, weight_decay=4e-5))
# `--auto-scale-lr` rescales base_lr by (actual batch) / 64.
auto_scale_lr = dict(enable=False, base_batch_size=batch_size)
