# The freeze of the backbone, for a config that already imports mmfrozen (custom_imports): every
# frozen config of this package inherits it beside its fine-tuned twin. mmengine refuses a key
# set by two sibling bases, so custom_imports is not here but in freeze_backbone.py, for twins
# that import nothing (and stock mmdet configs).
runner_type = 'FrozenRunner'  # freezes before DDP wrapping and optimizer building
custom_hooks = [dict(type='FreezeBackboneHook')]
