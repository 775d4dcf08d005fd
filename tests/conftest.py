import pytest
import torch

from mmfrozen.testing import make_tiny_coco
from tests.utils import CONFIGS, REPO  # noqa: F401  (re-exported for test modules)


def pytest_collection_modifyitems(config, items):
    """Tests marked ``cuda`` need a GPU: without one each is skipped, saying why."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason=f'needs a CUDA GPU: torch {torch.__version__} sees none on '
                            'this machine (tools/gpu_check.sh runs these on a GPU machine)')
    for item in items:
        if 'cuda' in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope='session')
def tiny_coco(tmp_path_factory):
    """8 train / 4 val images of 64x64 with 3 classes, boxes and polygon masks."""
    return make_tiny_coco(str(tmp_path_factory.mktemp('tiny_coco')))


@pytest.fixture(autouse=True)
def _fresh_mmengine_state():
    """Each test builds its own Runner: drop mmengine's global instances (loggers, message
    hubs, visualizers and their subclasses such as mmdet's DetLocalVisualizer) between tests."""
    yield
    from mmengine.utils import ManagerMixin
    stack = [ManagerMixin]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if '_instance_dict' in vars(cls):
            cls._instance_dict.clear()
