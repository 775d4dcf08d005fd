# LSJ pipelines at the input sizes of the paper's released configs other than 1024 px: 1280 px
# for the cascade configs, 640 px for RetinaNet (TF Model Garden defaults and `input_size`).
# Variables only; the lsj-1280-* / lsj-640-* schedules put them in place.
lsj_scale_range = (0.1, 2.0)  # aug_scale_min / aug_scale_max of the official configs


def _pipelines(size):
    train = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations', with_bbox=True),
        dict(type='RandomResize', scale=size, ratio_range=lsj_scale_range, keep_ratio=True),
        dict(type='RandomCrop', crop_type='absolute_range', crop_size=size,
             recompute_bbox=True, allow_negative_crop=True),
        dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackDetInputs')
    ]
    test = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=size, keep_ratio=True),
        dict(type='LoadAnnotations', with_bbox=True),
        dict(type='PackDetInputs',
             meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor'))
    ]
    return train, test


lsj1280_train_pipeline, lsj1280_test_pipeline = _pipelines((1280, 1280))
lsj640_train_pipeline, lsj640_test_pipeline = _pipelines((640, 640))
