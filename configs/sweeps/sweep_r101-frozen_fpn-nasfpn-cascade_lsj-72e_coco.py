# The paper's Table 3 in one run: on one frozen ImageNet R101, Faster R-CNN + FPN, Faster R-CNN
# + NAS-FPN and Cascade R-CNN + NAS-FPN (LSJ, 72 epochs) train together on one backbone forward
# per batch. Each member keeps its own neck, heads, optimizer settings, losses and metrics
# (`fpn/coco/bbox_mAP`, ...); data, schedule, runtime and the freeze hook are the members'
# (checked equal when the model is built) and come from the _base_ member.
_base_ = '../faster_rcnn/faster-rcnn_r101-frozen_nasfpn_lsj-72e_coco.py'

here = '{{ fileDirname }}'  # member paths below are relative to this folder
# NAS-FPN's P7 has stride 128, so its members pad images to multiples of 128; the FPN member
# pads to 128 as well (training is unchanged: LSJ pads every training batch to 1024 anyway;
# at test time its images get up to 96 more pixels of zero padding than alone).
pad_size_divisor = 128

model = dict(
    _delete_=True,
    type='DetectorSweep',
    members=dict(
        fpn=dict(
            config=here + '/../faster_rcnn/faster-rcnn_r101-frozen_fpn_lsj-72e_coco.py',
            cfg_options={'model.data_preprocessor.pad_size_divisor': pad_size_divisor}),
        nasfpn=here + '/../faster_rcnn/faster-rcnn_r101-frozen_nasfpn_lsj-72e_coco.py',
        cascade=dict(
            config=here + '/../cascade_rcnn/cascade-rcnn_r101-frozen_nasfpn_lsj-72e_coco.py',
            # its Cascade Mask R-CNN base pads masks; trained on boxes it has none to pad
            cfg_options={'model.data_preprocessor.pad_mask': False})))
# one optimizer; every member's parameter groups and gradient clipping as in its own config
optim_wrapper = dict(
    _delete_=True, type='SweepOptimWrapper', constructor='SweepOptimWrapperConstructor')
# every member evaluated with its own copy of the members' metric
val_evaluator = dict(_delete_=True, type='SweepMetric', metric={{_base_.val_evaluator}})
test_evaluator = val_evaluator
