# RetinaNet R50-FPN (P3-P7) on LSJ: every batch padded to the fixed LSJ crop.
_base_ = 'mmdet::_base_/models/retinanet_r50_fpn.py'

lsj_size = (1024, 1024)  # LSJ crop; batches are padded to it
head_convs = 4  # stacked 3x3 convs of each RetinaNet branch (paper's TF RetinaNet head: 4)

model = dict(
    data_preprocessor=dict(batch_augments=[dict(type='BatchFixedSizePad', size=lsj_size)]),
    bbox_head=dict(stacked_convs=head_convs))
