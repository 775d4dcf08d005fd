# Control: RetinaNet R50-FPN 1x with a heavier head (8 instead of 4 stacked convs per branch),
# ImageNet backbone fine-tuned.
_base_ = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'

head_convs = 8  # stacked 3x3 convs of the classification and box branches (mmdet: 4)

model = dict(bbox_head=dict(stacked_convs=head_convs))
