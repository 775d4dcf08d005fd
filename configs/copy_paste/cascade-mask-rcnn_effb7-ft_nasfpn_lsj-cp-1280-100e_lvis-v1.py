# Control of the paper's large-scale LVIS v1 result (stage 1): the COCO large-scale recipe
# (Cascade Mask R-CNN, EfficientNet-B7 fine-tuned, NAS-FPN, 1280 px, LSJ + Copy-Paste) on
# LVIS v1 with repeat-factor sampling and LVIS test settings.
# Paper, LVIS v1 box AP/APr: fine-tuned 38.5/19.3, frozen 39.7/22.2 (stage 2: 41.6/31.5 and
# 43.1/33.2; see configs/lvis/*stage2* for the stage-2 pattern).
_base_ = './cascade-mask-rcnn_effb7-ft_nasfpn_lsj-cp-1280-600e_coco.py'

num_classes = 1203  # LVIS v1 categories
max_epochs = 100  # LVIS is ~1x COCO's images; shorter than COCO's 600 epochs
milestones = [max_epochs * 2 // 3, round(max_epochs * 17 / 18)]
data_root = 'data/lvis_v1/'
oversample_thr = 1e-3  # repeat-factor sampling threshold (LVIS paper)

model = dict(
    roi_head=dict(
        # the COCO twin's stages with LVIS's classes
        bbox_head=[dict(stage, num_classes=num_classes)
                   for stage in _base_.model.roi_head.bbox_head],
        mask_head=dict(num_classes=num_classes)),
    # LVIS: keep low-score detections, up to 300 per image
    test_cfg=dict(rcnn=dict(score_thr=0.0001, max_per_img=300)))

train_dataloader = dict(
    dataset=dict(
        dataset=dict(
            _delete_=True,
            type='ClassBalancedDataset',
            oversample_thr=oversample_thr,
            dataset=dict(
                type='LVISV1Dataset',
                data_root=data_root,
                ann_file='annotations/lvis_v1_train.json',
                data_prefix=dict(img=''),
                filter_cfg=dict(filter_empty_gt=True, min_size=32),
                pipeline={{_base_.load_pipeline}},
                backend_args={{_base_.backend_args}}))))
val_dataloader = dict(
    dataset=dict(type='LVISV1Dataset', data_root=data_root,
                 ann_file='annotations/lvis_v1_val.json', data_prefix=dict(img='')))
test_dataloader = val_dataloader
# mmfrozen's LVISMetric: mmdet's cannot evaluate on numpy 2 (docs/lvis.md)
val_evaluator = dict(_delete_=True, type='mmfrozen.LVISMetric',
                     ann_file=data_root + 'annotations/lvis_v1_val.json',
                     metric=['bbox', 'segm'])
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=max_epochs, val_interval=10)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.067, by_epoch=False, begin=0, end=1000),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=milestones,
         gamma=0.1),
]
