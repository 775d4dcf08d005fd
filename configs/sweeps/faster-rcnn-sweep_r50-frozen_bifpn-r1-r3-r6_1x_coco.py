# The capacity dial on one frozen ImageNet R50: Faster R-CNN with a StackedBiFPN of 1, 3 and 6
# repeats (21.7M, 31.2M, 45.3M trainable parameters), mmdet 1x, trained together on one backbone
# forward per batch. Each member keeps its own neck, heads, optimizer settings, losses and
# metrics (`r3/coco/bbox_mAP`, ...); data, schedule, runtime and the freeze hook are the members'
# (checked equal when the model is built) and come from the _base_ member.
_base_ = '../faster_rcnn/faster-rcnn_r50-frozen_bifpn-r1_1x_coco.py'

here = '{{ fileDirname }}'  # member paths below are relative to this folder

model = dict(
    _delete_=True,
    type='DetectorSweep',
    members=dict(
        r1=here + '/../faster_rcnn/faster-rcnn_r50-frozen_bifpn-r1_1x_coco.py',
        r3=here + '/../faster_rcnn/faster-rcnn_r50-frozen_bifpn-r3_1x_coco.py',
        r6=here + '/../faster_rcnn/faster-rcnn_r50-frozen_bifpn-r6_1x_coco.py'))
# one optimizer; every member's parameter groups and gradient clipping as in its own config
optim_wrapper = dict(
    _delete_=True, type='SweepOptimWrapper', constructor='SweepOptimWrapperConstructor')
# every member evaluated with its own copy of the members' metric
val_evaluator = dict(_delete_=True, type='SweepMetric', metric={{_base_.val_evaluator}})
test_evaluator = val_evaluator
