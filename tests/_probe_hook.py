"""A hook for tests: records what the frozen module saw and wrote, per rank."""
import json
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmdet.registry import HOOKS

from mmfrozen.freezing.spec import unwrap
from mmfrozen.freezing.fingerprint import tensor_digest


def state_digest(module: torch.nn.Module, params_only: bool = False) -> str:
    tensors = module.parameters() if params_only else module.state_dict().values()
    return tensor_digest(torch.cat([t.detach().float().reshape(-1) for t in tensors]))


def param_digest(module: torch.nn.Module) -> str:
    """Parameters only: BN running statistics are per rank under DDP (no SyncBN)."""
    return tensor_digest(torch.cat([p.detach().float().reshape(-1)
                                    for p in module.parameters()]))


@HOOKS.register_module()
class FreezeProbeHook(Hook):
    """Snapshots states, and records training flags and autograd state during training."""
    priority = 'LOWEST'

    def __init__(self, module: str = 'backbone', mutate_at_iter: int = -1,
                 digests=('backbone', 'neck')):
        self.module = module
        self.digests = tuple(digests)  # top-level modules whose states are digested per rank
        self.mutate_at_iter = mutate_at_iter
        self.snapshots = {}
        self.forward_records = []

    def _sub(self, runner):
        m = unwrap(runner.model)
        for p in self.module.split('.'):
            m = getattr(m, p)
        return m

    def _snap(self, runner, key):
        model = unwrap(runner.model)
        self.snapshots[key] = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def before_train(self, runner):
        self._snap(runner, 'before_train')
        model = unwrap(runner.model)
        self.before_digests = {name: state_digest(getattr(model, name))
                               for name in self.digests}
        module = self._sub(runner)

        def record(m, inputs, outputs):
            if m.training or unwrap(runner.model).training:
                outs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
                self.forward_records.append(dict(
                    model_training=unwrap(runner.model).training,
                    any_submodule_training=any(s.training for s in m.modules()),
                    grad_fn=any(o.grad_fn is not None for o in outs),
                    requires_grad=any(o.requires_grad for o in outs)))
        self._handle = module.register_forward_hook(record)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == self.mutate_at_iter:
            with torch.no_grad():
                next(self._sub(runner).parameters()).add_(1.0)

    def after_train(self, runner):
        self._handle.remove()
        self._snap(runner, 'after_train')

    def after_run(self, runner):
        if not hasattr(self, 'before_digests'):
            return  # a test/val-only run: nothing trained
        model = unwrap(runner.model)
        out = {name: state_digest(getattr(model, name)) for name in self.digests}
        out.update({f'{name}_params': state_digest(getattr(model, name), params_only=True)
                    for name in self.digests})
        out.update({f'{k}_before_train': v for k, v in self.before_digests.items()})
        out.update({f'{name}_params': param_digest(getattr(model, name))
                    for name in self.digests})
        out['ddp_find_unused_parameters'] = getattr(runner.model, 'find_unused_parameters', None)
        with open(osp.join(runner.work_dir, f'probe_rank{get_rank()}.json'), 'w') as f:
            json.dump(out, f)
