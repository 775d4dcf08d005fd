# Control: Faster R-CNN R50-FPN 1x with heavier heads (RPN with 2 convs, 4conv1fc GN box head),
# ImageNet backbone fine-tuned.
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'

rpn_convs = 2  # 3x3 convs of the RPN before its objectness/box layers (mmdet: 1)
head_norm = dict(type='GN', num_groups=32, requires_grad=True)  # norm of the box-head convs

model = dict(
    rpn_head=dict(num_convs=rpn_convs),
    roi_head=dict(
        bbox_head=dict(type='Shared4Conv1FCBBoxHead', conv_out_channels=256,
                       norm_cfg=head_norm)))
