# Twin of retinanet_dinov2-b-ft_sfp_lsj-72e-adamw_coco.py with the DINOv2 ViT-B/14 backbone
# frozen: only the simple feature pyramid and the RetinaNet head train; custom_imports comes
# from the twin.
_base_ = ['./retinanet_dinov2-b-ft_sfp_lsj-72e-adamw_coco.py',
          '../_base_/freeze_backbone_runner.py']
