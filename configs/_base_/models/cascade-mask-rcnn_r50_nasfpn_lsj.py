# The paper's Cascade R-CNN (NAS-FPN, P3-P7) with mmdet's mask branch switched back on.
_base_ = './cascade-rcnn_r50_nasfpn_lsj.py'

model = dict(
    data_preprocessor=dict(
        batch_augments=[dict(type='BatchFixedSizePad', size={{_base_.lsj_size}}, pad_mask=True)]),
    roi_head=dict(
        mask_roi_extractor=dict(
            _delete_=True,
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=0),
            out_channels=256,
            featmap_strides=_base_.pyramid_roi_strides),
        mask_head=dict(
            _delete_=True,
            type='FCNMaskHead',
            num_convs=4,
            in_channels=256,
            conv_out_channels=256,
            num_classes=80,
            loss_mask=dict(type='CrossEntropyLoss', use_mask=True, loss_weight=1.0))))
