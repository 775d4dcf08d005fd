"""Resuming a sweep whose members changed since its checkpoint: refused, naming the change."""
import os.path as osp

import pytest

import mmfrozen  # noqa: F401
from tests.utils import CONFIGS, build_runner, tiny_member_config, tiny_sweep_config

RETINA = osp.join(CONFIGS, 'retinanet', 'retinanet_r50-frozen_fpn_1x_coco.py')


@pytest.fixture(scope='module')
def checkpoint(tiny_coco, tmp_path_factory):
    """A sweep of members ``a`` and ``b`` (one tiny RetinaNet) trained for one iteration; its
    member config and work dir (holding ``iter_1.pth``)."""
    root = tmp_path_factory.mktemp('sweep_resume')
    member = tiny_member_config(tiny_coco, root, RETINA, 'retina', max_iters=1, val=False)
    cfg = tiny_sweep_config(dict(a=member, b=member), member)
    build_runner(cfg).train()
    assert osp.isfile(osp.join(cfg.work_dir, 'iter_1.pth'))
    return member, cfg.work_dir


@pytest.mark.parametrize('names, change', [
    (('a', 'c'), r"this run has \['a', 'c'\] \(added \['c'\]; removed or renamed \['b'\]\)"),
    (('a', 'b', 'c'), r"this run has \['a', 'b', 'c'\] \(added \['c'\]\)"),
])
def test_resume_names_the_members_that_changed(checkpoint, names, change):
    """Renamed: before, a bare StopIteration in get_lr (the groups kept the old names); added:
    a size mismatch blamed on another freeze hook or stock mmdet."""
    member, work_dir = checkpoint
    longer = {'train_cfg.max_iters': 2}  # one more iteration than the checkpoint's
    cfg = tiny_sweep_config({n: dict(config=member, cfg_options=longer) for n in names}, member)
    cfg.merge_from_dict(longer)
    cfg.update(work_dir=work_dir, resume=True, load_from=osp.join(work_dir, 'iter_1.pth'))
    with pytest.raises(ValueError, match=(
            r"cannot resume .*iter_1.pth: the sweep's members changed since it was written: it "
            rf"holds the optimizer state of members \['a', 'b'\], {change}.*put the member list "
            'back as it was')):
        build_runner(cfg).train()
