# Twin of faster-rcnn_r101-ft_nasfpn_lsj-72e_coco.py
# trained from scratch: no ImageNet weights, and GN instead of BN in backbone and neck, since
# a random network has no ImageNet statistics to freeze (mmdet's scratch recipe, He et al.,
# "Rethinking ImageNet Pre-training", ICCV 2019).
_base_ = './faster-rcnn_r101-ft_nasfpn_lsj-72e_coco.py'

norm_cfg = dict(type='GN', num_groups=32, requires_grad=True)  # every backbone and neck norm

model = dict(
    backbone=dict(
        frozen_stages=-1,
        norm_eval=False,
        zero_init_residual=False,
        norm_cfg=norm_cfg,
        init_cfg=None),
    neck=dict(norm_cfg=norm_cfg))
optim_wrapper = dict(paramwise_cfg=dict(norm_decay_mult=0.0))  # no weight decay on GN
