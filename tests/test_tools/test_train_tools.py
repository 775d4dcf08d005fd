"""tools/dist_train.sh (2 processes, gloo, CPU), tools/test.py and `mim train mmdet`."""
import json
import os
import os.path as osp
import shutil
import socket
import subprocess
import sys

import pytest
import torch

from mmfrozen.freezing.fingerprint import tensor_digest
from tests.utils import REPO, tiny_frozen_cfg


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _env():
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1')
    return env


def _probe_cfg(tiny_coco, tmp_path, **kw):
    cfg = tiny_frozen_cfg(tiny_coco, tmp_path, **kw)
    cfg.custom_imports = dict(imports=['mmfrozen', 'tests._probe_hook'],
                              allow_failed_imports=False)
    cfg.custom_hooks = [*cfg.custom_hooks, dict(type='FreezeProbeHook')]
    path = str(tmp_path / 'tiny_frozen.py')
    cfg.dump(path)
    return cfg, path


def _pretrained_digest(tmp_path) -> str:
    state = torch.load(tmp_path / 'pretrained.pth')['state_dict']
    return tensor_digest(torch.cat([t.float().reshape(-1) for t in state.values()]))


def _run(cmd, tmp_path, timeout=600):
    proc = subprocess.run(cmd, cwd=REPO, env=_env(), capture_output=True, text=True,
                          timeout=timeout)
    log = tmp_path / 'cmd.log'
    log.write_text(proc.stdout + proc.stderr)
    assert proc.returncode == 0, f'{cmd} failed, tail:\n' + (proc.stdout + proc.stderr)[-3000:]
    return proc.stdout + proc.stderr


@pytest.mark.slow
def test_dist_train_two_processes_on_cpu_then_test(tiny_coco, tmp_path):
    cfg, path = _probe_cfg(tiny_coco, tmp_path, max_iters=3, val=False, checkpoint_interval=3)
    assert not cfg.get('find_unused_parameters', False)
    env_port = _free_port()
    os.environ['PORT'] = str(env_port)
    try:
        _run(['bash', 'tools/dist_train.sh', path, '2'], tmp_path)
    finally:
        os.environ.pop('PORT', None)
    ranks = [json.load(open(tmp_path / 'work' / f'probe_rank{r}.json')) for r in (0, 1)]
    pretrained = _pretrained_digest(tmp_path)
    for probe in ranks:
        # the frozen backbone is the pretrained one, on both ranks, before and after training
        assert probe['backbone'] == probe['backbone_before_train'] == pretrained
        assert probe['neck'] != probe['neck_before_train']
    assert ranks[0]['neck'] == ranks[1]['neck']  # DDP kept the trained parts in sync

    # tools/test.py evaluates the checkpoint (loads through mmfrozen's checkpoint loader)
    out = _run([sys.executable, 'tools/test.py', path, str(tmp_path / 'work' / 'iter_3.pth'),
                '--work-dir', str(tmp_path / 'test')], tmp_path)
    assert 'coco/bbox_mAP' in out


@pytest.mark.slow
def test_mim_train_mmdet_runs_frozen_config(tiny_coco, tmp_path):
    mim = shutil.which('mim', path=osp.dirname(sys.executable))
    assert mim, 'openmim is part of the set-up (requirements/mim.txt)'
    cfg, path = _probe_cfg(tiny_coco, tmp_path, max_iters=2, val=False, checkpoint_interval=2)
    _run([mim, 'train', 'mmdet', path, '--work-dir', str(tmp_path / 'work')], tmp_path)
    probe = json.load(open(tmp_path / 'work' / 'probe_rank0.json'))
    assert probe['backbone'] == probe['backbone_before_train'] == _pretrained_digest(tmp_path)
    assert probe['neck'] != probe['neck_before_train']
    assert osp.exists(tmp_path / 'work' / 'iter_2.pth')
