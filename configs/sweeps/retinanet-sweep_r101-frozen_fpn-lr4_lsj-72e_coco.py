# A learning-rate sweep on one frozen ImageNet R101: four RetinaNet R101-FPN (LSJ, 72 epochs,
# batch 256 recipe) that differ only in the LR, trained together on one backbone forward per
# batch; same seed, so a paired comparison. Also the k = 4 sweep of the training-cost
# measurements where the backbone is a larger share of the step (docs/train_cost.md).
_base_ = '../retinanet/retinanet_r101-frozen_fpn_lsj-72e_coco.py'

here = '{{ fileDirname }}'  # member paths below are relative to this folder
member = here + '/../retinanet/retinanet_r101-frozen_fpn_lsj-72e_coco.py'
lrs = dict(lr016=0.16, lr032=0.32, lr064=0.64, lr128=1.28)  # member name: LR (config's: 0.32)

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
