import pytest

from mmfrozen.testing import make_tiny_coco
from tests.utils import CONFIGS, REPO  # noqa: F401  (re-exported for test modules)


@pytest.fixture(scope='session')
def tiny_coco(tmp_path_factory):
    """8 train / 4 val images of 64x64 with 3 classes, boxes and polygon masks."""
    return make_tiny_coco(str(tmp_path_factory.mktemp('tiny_coco')))


@pytest.fixture(autouse=True)
def _fresh_mmengine_state():
    """Each test builds its own Runner: drop mmengine's global instances between tests."""
    yield
    from mmengine.logging import MMLogger, MessageHub
    from mmengine.visualization import Visualizer
    for cls in (MMLogger, MessageHub, Visualizer):
        cls._instance_dict.clear()
