# The paper's LSJ 72-epoch schedule (batch 64, LR drops at epochs 48 and 68), COCO boxes, with
# the AdamW optimizer that plain ViTs train with (./vit_adamw.py). Linear scaling rule:
# lr = 1e-4 * batch / 64.
_base_ = ['./lsj-72e_coco-detection.py', './vit_adamw.py']

base_lr = 1e-4  # at batch 64
optim_wrapper = {{_base_.vit_optim_wrapper}}
