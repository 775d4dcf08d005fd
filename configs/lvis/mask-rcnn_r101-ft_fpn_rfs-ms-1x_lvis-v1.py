# Control: mmdet's LVIS v1 Mask R-CNN R101-FPN, ImageNet backbone fine-tuned.
_base_ = 'mmdet::lvis/mask-rcnn_r101_fpn_sample1e-3_ms-1x_lvis-v1.py'
custom_imports = dict(imports=['mmfrozen'], allow_failed_imports=False)
# mmdet's LVISMetric cannot evaluate on numpy 2 (its lvis package calls np.float): mmfrozen's,
# chosen by name, takes the same arguments and logs the same keys (docs/lvis.md).
val_evaluator = dict(type='mmfrozen.LVISMetric')
test_evaluator = val_evaluator
