# A learning-rate sweep on one frozen ImageNet R50: four Faster R-CNN R50-FPN (mmdet 1x) that
# differ only in the LR, trained together on one backbone forward per batch. Same seed, so all
# four start from the same weights and see the same batches: a paired comparison. Also the
# k = 4 sweep of the training-cost measurements (docs/train_cost.md).
_base_ = '../faster_rcnn/faster-rcnn_r50-frozen_fpn_1x_coco.py'

here = '{{ fileDirname }}'  # member paths below are relative to this folder
member = here + '/../faster_rcnn/faster-rcnn_r50-frozen_fpn_1x_coco.py'
lrs = dict(lr005=0.005, lr01=0.01, lr02=0.02, lr04=0.04)  # member name: LR (the config's: 0.02)

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
