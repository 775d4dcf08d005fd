# Twin of mask-rcnn_convnext-t-ft_fpn_ms-crop-3x_coco.py with the ImageNet backbone frozen: only
# neck and heads train. The twin imports mmpretrain's models; mmfrozen is added to them.
_base_ = ['./mask-rcnn_convnext-t-ft_fpn_ms-crop-3x_coco.py',
          '../_base_/freeze_backbone_runner.py']

custom_imports = dict(imports=['mmpretrain.models', 'mmfrozen'], allow_failed_imports=False)
