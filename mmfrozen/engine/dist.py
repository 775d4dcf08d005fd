"""Multi-process training without a GPU: gloo process group and a CPU DDP wrapper."""
import os

import torch
import torch.distributed as dist
from mmengine.config import Config


def setup_cpu_distributed(cfg: Config) -> bool:
    """Prepare ``cfg`` for a torchrun launch on a machine without CUDA.

    mmengine's ``init_dist`` calls ``torch.cuda.set_device`` and its default DDP wrapper passes
    ``device_ids=[LOCAL_RANK]``; both fail on CPU. Here the process group is initialised with
    gloo from torchrun's environment before the Runner is built (so the Runner does not call
    ``init_dist``), and DDP is configured with ``device_ids=None``.

    Returns:
        True if the CPU set-up was applied, False when CUDA is available (nothing changed).
    """
    if torch.cuda.is_available():
        return False
    missing = [k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
               if k not in os.environ]
    if missing:
        raise RuntimeError(
            f'mmfrozen: launcher {cfg.get("launcher")!r} on a machine without CUDA: the gloo '
            f'process group is initialised from torchrun\'s environment, but {missing} are not '
            'set. Start CPU jobs with tools/dist_train.sh (torchrun).')
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = dict(cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel'))
    wrapper.setdefault('broadcast_buffers', False)
    # mmengine reads cfg.find_unused_parameters only when model_wrapper_cfg is None
    wrapper.setdefault('find_unused_parameters', cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    return True
