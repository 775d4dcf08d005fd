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

num_classes = 1203  # LVIS v1 categories


def _stage(stds):
    return dict(
        type='Shared2FCBBoxHead',
        in_channels=256,
        fc_out_channels=1024,
        roi_feat_size=7,
        num_classes=num_classes,
        bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0., 0., 0., 0.],
                        target_stds=stds),
        reg_class_agnostic=True,  # class-agnostic boxes, as in the paper's cascade
        loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
        loss_bbox=dict(type='SmoothL1Loss', beta=1.0, loss_weight=1.0))


model = dict(
    roi_head=dict(
        # mmdet's three stages (IoU 0.5 / 0.6 / 0.7), only num_classes changed
        bbox_head=[
            _stage([0.1, 0.1, 0.2, 0.2]),
            _stage([0.05, 0.05, 0.1, 0.1]),
            _stage([0.033, 0.033, 0.067, 0.067]),
        ],
        mask_head=dict(num_classes=num_classes)),
    # LVIS: keep low-score detections, up to 300 per image
    test_cfg=dict(rcnn=dict(score_thr=0.0001, max_per_img=300)))
