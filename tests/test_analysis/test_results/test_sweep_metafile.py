"""The metafile entry of a sweep member names the config its weights load with: the member's
config file with the sweep's ``cfg_options`` applied (written by the checkpoint split next to
the member's weights), not the untouched member file."""
import os
import os.path as osp

import pytest
import yaml
from mmengine.config import Config

from mmfrozen.analysis.results.table import ResultsTable

from ...conftest import CONFIGS
from ._written_work_dirs import write_lines

LRS = dict(lr005=0.005, lr04=0.04)
SWEEP = 'faster-rcnn-sweep_r50-frozen_fpn-lr4_1x_coco'


def write_sweep(root, split_configs):
    """A sweep work dir as mmengine writes it, one evaluation, and the split of its
    checkpoint: each member's ``epoch_1_<member>.pth`` and, if ``split_configs``, ``.py``."""
    member = osp.join(CONFIGS, 'faster_rcnn', 'faster-rcnn_r50-frozen_fpn_1x_coco.py')
    cfg = Config.fromfile(osp.join(CONFIGS, 'sweeps', f'{SWEEP}.py'))
    cfg.model = dict(type='DetectorSweep', members={
        n: dict(config=member, cfg_options={'optim_wrapper.optimizer.lr': lr})
        for n, lr in LRS.items()})
    work, ts = osp.join(root, SWEEP), '20261201_100000'
    vis = osp.join(work, ts, 'vis_data')
    os.makedirs(vis)
    cfg.dump(osp.join(vis, 'config.py'))
    cfg.dump(osp.join(work, f'{SWEEP}.py'))
    train = dict(lr=0.02, loss=1.0, time=0.5, data_time=0.01, epoch=1, iter=50, step=50)
    for m, lr in LRS.items():
        train.update({f'{m}/lr': lr, f'{m}/loss': 0.5})
    evaluation = dict(data_time=0.01, time=0.1, step=1, **{f'{m}/coco/bbox_mAP': 0.3 + lr
                                                           for m, lr in LRS.items()})
    for name in ('scalars.json', f'{ts}.json'):
        write_lines(osp.join(vis, name), [train, evaluation])
    open(osp.join(work, ts, f'{ts}.log'), 'w').close()
    open(osp.join(work, 'epoch_1.pth'), 'w').close()
    for m, lr in LRS.items():
        open(osp.join(work, f'epoch_1_{m}.pth'), 'w').close()
        if split_configs:
            member_cfg = Config.fromfile(member)
            member_cfg.merge_from_dict({'optim_wrapper.optimizer.lr': lr})
            member_cfg.dump(osp.join(work, f'epoch_1_{m}.py'))


@pytest.mark.parametrize('split_configs', [True, False], ids=['split', 'weights-only'])
def test_sweep_member_entries_name_the_config_their_weights_load_with(tmp_path, split_configs):
    write_sweep(str(tmp_path / 'work_dirs'), split_configs)
    table = ResultsTable.from_work_dirs([str(tmp_path / 'work_dirs')], params=False)
    out = table.write(str(tmp_path / 'out'), config_root=CONFIGS, plots=False)
    with open(out['metafile']) as f:
        models = yaml.safe_load(f)['Models']
    assert len(models) == len(LRS)
    for model in models:
        member = osp.splitext(osp.basename(model['Weights']))[0].split('_')[-1]
        if split_configs:
            assert Config.fromfile(model['Config']).optim_wrapper.optimizer.lr == LRS[member]
            assert osp.basename(model['Config']) == f'epoch_1_{member}.py'
        else:  # the member file, and what the sweep changed in it
            assert model['Metadata'].get('Config Options') == {
                'optim_wrapper.optimizer.lr': LRS[member]}
        assert model['Metadata']['Sweep'] == f'{SWEEP} [{member}]'
