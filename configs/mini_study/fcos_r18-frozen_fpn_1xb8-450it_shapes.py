# Twin of fcos_r18-ft_fpn_1xb8-450it_shapes.py with the upstream backbone frozen
# (custom_imports comes from the twin).
_base_ = ['./fcos_r18-ft_fpn_1xb8-450it_shapes.py', '../_base_/freeze_backbone_runner.py']
