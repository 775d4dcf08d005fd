"""The naming rule: a config name's parts, and the fine-tuned twin of a config."""
import pytest

from mmfrozen.config.name import ConfigName, twin_config_path
from tests.utils import CONFIGS, FROZEN

FT = f'{CONFIGS}/faster_rcnn/faster-rcnn_r50-ft_fpn_1x_coco.py'


def test_config_names_and_twins():
    name = ConfigName.parse('cascade-mask-rcnn_r101-frozen-adapters_nasfpn_lsj-72e_coco.py')
    assert (name.algorithm, name.backbone, name.mode, name.neck, name.schedule, name.dataset) == (
        'cascade-mask-rcnn', 'r101', 'frozen-adapters', 'nasfpn', 'lsj-72e', 'coco')
    assert name.twin == 'cascade-mask-rcnn_r101-ft_nasfpn_lsj-72e_coco'
    assert ConfigName.parse('faster-rcnn_r50-ft_fpn_1x_coco').twin is None
    assert ConfigName.parse('faster-rcnn_r50-scratch_fpn_1x_coco').twin == \
        'faster-rcnn_r50-ft_fpn_1x_coco'
    assert ConfigName.parse('faster-rcnn_r50_fpn_1x_coco') is None  # no mode
    assert ConfigName.parse('work_dir') is None


def test_twin_file_by_naming_rule(tmp_path):
    assert twin_config_path(FROZEN) == FT
    with pytest.raises(ValueError, match='already the fine-tuned config'):
        twin_config_path(FT)
    lonely = tmp_path / 'retinanet_r50-frozen_fpn_1x_coco.py'
    lonely.write_text('')
    with pytest.raises(FileNotFoundError, match='retinanet_r50-ft_fpn_1x_coco.py'):
        twin_config_path(str(lonely))
    with pytest.raises(ValueError, match='naming rule'):
        twin_config_path(str(tmp_path / 'my_frozen_detector.py'))
