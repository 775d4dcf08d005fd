# A learning-rate sweep on one frozen DINOv2 ViT-B/14: four RetinaNets under the simple feature
# pyramid (LSJ, 72 epochs, AdamW) that differ only in the LR, trained together on one backbone
# forward per batch; same seed, so a paired comparison. The decoder is light and the ViT's
# forward at 1024 px heavy (about half of a member's step on a CPU), so this is the k = 4 sweep
# of the training-cost measurements with the largest backbone share (docs/train_cost.md).
_base_ = '../retinanet/retinanet_dinov2-b-frozen_sfp_lsj-72e-adamw_coco.py'

here = '{{ fileDirname }}'  # member paths below are relative to this folder
member = here + '/../retinanet/retinanet_dinov2-b-frozen_sfp_lsj-72e-adamw_coco.py'
lrs = dict(lr05=5e-5, lr1=1e-4, lr2=2e-4, lr4=4e-4)  # member name: LR x 1e-4 (config's: 1e-4)

model = dict(
    _delete_=True,
    type='DetectorSweep',
    members={
        name: dict(config=member, cfg_options={'optim_wrapper.optimizer.lr': lr})
        for name, lr in lrs.items()
    })
# one optimizer; every member's parameter groups and gradient clipping as in its own config
optim_wrapper = dict(
    _delete_=True, type='SweepOptimWrapper', constructor='SweepOptimWrapperConstructor')
# every member evaluated with its own copy of the members' metric
val_evaluator = dict(_delete_=True, type='SweepMetric', metric={{_base_.val_evaluator}})
test_evaluator = val_evaluator
