# The paper's long LSJ schedule: 600 epochs, same batch 64 / LR 0.16 recipe as 72 epochs.
# The LR drops keep the 72-epoch proportions (48/72 = 2/3, 68/72 = 0.944): 600 x 2/3 = 400 and
# 600 x 0.944 = 566.7 -> 568, the nearest multiple of `repeat`.
_base_ = './lsj-72e_coco-detection.py'

repeat = 8  # COCO passes per loop epoch
epochs = 600  # COCO passes in total (paper)
lr_drop_epochs = (400, 568)  # COCO passes after which LR is multiplied by 0.1
max_epochs = epochs // repeat  # 600 / 8 = 75 loop epochs

train_dataloader = dict(dataset=dict(times=repeat))
train_cfg = dict(max_epochs=max_epochs, val_interval=5)  # validate every 5 x 8 = 40 epochs
param_scheduler = [
    dict(type='LinearLR', start_factor=0.067, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[e // repeat for e in lr_drop_epochs],  # 400 / 8 = 50, 568 / 8 = 71
        gamma=0.1)
]
