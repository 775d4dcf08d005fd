# The paper's RetinaNet recipe: LSJ 72 epochs with batch 256 and LR 0.32 (official configs).
_base_ = './lsj-72e_coco-detection.py'

num_gpus = 8  # GPUs the recipe assumes
samples_per_gpu = 32  # images per GPU
batch_size = num_gpus * samples_per_gpu  # 8 x 32 = 256 images per step (paper: 256)
base_lr = 0.32  # paper's LR at batch 256; linear scaling rule: lr = 0.32 * batch / 256

train_dataloader = dict(batch_size=samples_per_gpu)
optim_wrapper = dict(optimizer=dict(lr=base_lr))
auto_scale_lr = dict(enable=False, base_batch_size=batch_size)
