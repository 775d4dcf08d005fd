# Twin of faster-rcnn_r18-ft_bifpn-r1-w64_200it_shapes.py with the upstream backbone frozen
# (custom_imports comes from the twin).
_base_ = ['./faster-rcnn_r18-ft_bifpn-r1-w64_200it_shapes.py',
          '../_base_/freeze_backbone_runner.py']
