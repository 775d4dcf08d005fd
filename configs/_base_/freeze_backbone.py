# The three lines that freeze the backbone of any mmdet config (docs/freezing.md, "Drop-in"):
# the freeze of freeze_backbone_runner.py and the import of mmfrozen that it needs.
_base_ = './freeze_backbone_runner.py'
custom_imports = dict(imports=['mmfrozen'], allow_failed_imports=False)
