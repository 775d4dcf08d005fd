# The paper's long LSJ schedule for boxes and masks: 600 epochs, batch 64 / LR 0.16.
# LR drops after epochs 575 and 590, as in the official configs (stepwise boundaries 1062734
# and 1090458 at 1848 steps per epoch: 118287 images / batch 64).
_base_ = './lsj-72e_coco-instance.py'

repeat = 5  # COCO passes per loop epoch (divides both LR drops)
epochs = 600  # COCO passes in total (paper)
lr_drop_epochs = (575, 590)  # COCO passes after which LR is multiplied by 0.1 (official)
max_epochs = epochs // repeat  # 600 / 5 = 120 loop epochs

train_dataloader = dict(dataset=dict(times=repeat))
train_cfg = dict(max_epochs=max_epochs, val_interval=8)  # validate every 8 x 5 = 40 epochs
param_scheduler = [
    dict(type='LinearLR', start_factor=0.067, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[e // repeat for e in lr_drop_epochs],  # 575 / 5 = 115, 590 / 5 = 118
        gamma=0.1)
]
