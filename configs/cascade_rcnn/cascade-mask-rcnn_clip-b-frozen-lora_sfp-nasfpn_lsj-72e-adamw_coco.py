# Twin of cascade-mask-rcnn_clip-b-ft_sfp-nasfpn_lsj-72e-adamw_coco.py with the CLIP ViT-B/16
# backbone frozen and rank-8 LoRA updates on its attention linears (qkv, proj), zero-initialised:
# they train with the pyramid, NAS-FPN and heads; the checkpoint keys are unchanged.
# tools/merge_lora.py folds them into the weights for inference.
_base_ = './cascade-mask-rcnn_clip-b-frozen_sfp-nasfpn_lsj-72e-adamw_coco.py'
model = dict(backbone=dict(type='LoRAVisionTransformer', lora_cfg=dict(rank=8)))
