# ViTDet's optimizer for plain ViTs (AdamW, lr 1e-4 at batch 64, weight decay 0.1), without
# decay on norms, position embedding and class token; frozen and fine-tuned twins share it.
# A variable for the configs that train a ViT (schedule bases, LVIS configs).
vit_optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.1),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        custom_keys={
            'pos_embed': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0)
        }))
