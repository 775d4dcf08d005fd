"""Real logs for the analysis tests: tiny fine-tuned/frozen twins trained by the real Runner."""
import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List

from mmengine.config import Config
from mmengine.logging import MessageHub, MMLogger
from mmengine.registry import RUNNERS
from mmengine.runner import Runner
from mmengine.visualization import Visualizer

import mmfrozen  # noqa: F401
from mmfrozen.testing import TinyCoco, make_local_pretrained, shrink_model, tiny_overrides

from ...conftest import CONFIGS

EPOCHS = 2
BATCH = 4  # 8 train images: 2 iterations per epoch; 4 val images: one val batch
#: Names of the tiny twins: ResNet-18 at 8 base channels, 2 epochs on the tiny COCO.
NAMES = {mode: f'faster-rcnn_r18-{mode}_fpn_{EPOCHS}e_tinycoco' for mode in ('ft', 'frozen')}


@dataclass
class TinyRun:
    """A trained tiny run and what the Runner itself reported, to check the tool against."""
    mode: str
    config: str
    work_dir: str
    evals: List[Dict[str, float]]  # the message hub's metric values at every validation
    iters: int
    epochs: int


def shrink(cfg: Config) -> Config:
    """ResNet-18 (8 base channels), 16-wide neck/heads, fewer proposals: seconds per run."""
    cfg = shrink_model(cfg, width=16, fc_width=32)
    cfg.model.train_cfg.rpn_proposal.update(nms_pre=200, max_per_img=100)
    cfg.model.train_cfg.rcnn.sampler.num = 64
    cfg.model.test_cfg.rpn.update(nms_pre=100, max_per_img=50)
    return cfg


def _reset_mmengine_globals() -> None:
    """Drop mmengine's global instances, so the next Runner logs into its own work dir.

    Each ManagerMixin subclass (e.g. mmdet's DetLocalVisualizer) keeps its own instances.
    """
    classes = [MMLogger, MessageHub, Visualizer]
    while classes:
        cls = classes.pop()
        cls._instance_dict.clear()
        classes += cls.__subclasses__()


def train_tiny_twins(data: TinyCoco, root: str) -> Dict[str, TinyRun]:
    """Train the ft and frozen tiny twins under ``root/work_dirs`` (class-wise COCO metric)."""
    runs = {}
    for mode, base in (('ft', 'faster-rcnn_r50-ft_fpn_1x_coco.py'),
                       ('frozen', 'faster-rcnn_r50-frozen_fpn_1x_coco.py')):
        name = NAMES[mode]
        cfg = shrink(Config.fromfile(osp.join(CONFIGS, 'faster_rcnn', base)))
        cfg = tiny_overrides(cfg, data, osp.join(root, 'work_dirs', name), max_epochs=EPOCHS,
                             batch_size=BATCH)
        for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
            evaluator['classwise'] = True
        os.makedirs(osp.join(root, 'configs'), exist_ok=True)
        make_local_pretrained(cfg, osp.join(root, f'{name}_pretrained.pth'))
        path = osp.join(root, 'configs', f'{name}.py')
        cfg.dump(path)
        cfg = Config.fromfile(path)  # the Runner names the run after this file
        _reset_mmengine_globals()
        runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
        runner.train()
        hub = runner.message_hub
        keys = [k for k in hub.log_scalars if k.startswith('val/') and '/' in k[4:]]
        n_evals = len(hub.get_scalar('val/coco/bbox_mAP').data[0])
        evals = [{k[4:]: float(hub.get_scalar(k).data[0][i]) for k in keys}
                 for i in range(n_evals)]
        runs[mode] = TinyRun(mode=mode, config=path, work_dir=cfg.work_dir, evals=evals,
                             iters=runner.iter, epochs=runner.epoch)
        _reset_mmengine_globals()
    return runs
