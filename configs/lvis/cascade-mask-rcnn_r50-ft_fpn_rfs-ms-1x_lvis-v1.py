# Control: LVIS v1 Cascade Mask R-CNN R50-FPN, ImageNet (torchvision) backbone fine-tuned.
# mmdet has no plain LVIS v1 Cascade config: its COCO Cascade Mask R-CNN with mmdet's LVIS v1
# data (repeat-factor sampling, multi-scale) and LVIS test settings.
_base_ = [
    'mmdet::_base_/models/cascade-mask-rcnn_r50_fpn.py',
    'mmdet::_base_/datasets/lvis_v1_instance.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    'mmdet::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmfrozen'], allow_failed_imports=False)
# mmdet's LVISMetric cannot evaluate on numpy 2 (its lvis package calls np.float): mmfrozen's,
# chosen by name, takes the same arguments and logs the same keys (docs/lvis.md).
val_evaluator = dict(type='mmfrozen.LVISMetric')
test_evaluator = val_evaluator

num_classes = 1203  # LVIS v1 categories

model = dict(
    roi_head=dict(
        # mmdet's three stages (IoU 0.5 / 0.6 / 0.7), only num_classes changed
        bbox_head=[dict(stage, num_classes=num_classes)
                   for stage in _base_.model.roi_head.bbox_head],
        mask_head=dict(num_classes=num_classes)),
    # LVIS: keep low-score detections, up to 300 per image
    test_cfg=dict(rcnn=dict(score_thr=0.0001, max_per_img=300)))
