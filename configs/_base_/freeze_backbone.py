# The three lines that freeze the backbone of any mmdet config (see README, "Drop-in").
custom_imports = dict(imports=['mmfrozen'], allow_failed_imports=False)
runner_type = 'FrozenRunner'  # freezes before DDP wrapping and optimizer building
custom_hooks = [dict(type='FreezeBackboneHook')]
