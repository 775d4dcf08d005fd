"""mmfrozen: frozen ImageNet backbones for MMDetection 3.x.

Implements "Proper Reuse of Image Classification Features Improves Object Detection"
(C. Vasconcelos, V. Birodkar, V. Dumoulin, CVPR 2022, arXiv:2204.00484). Importing the package
(e.g. through ``custom_imports = dict(imports=['mmfrozen'])``) checks the OpenMMLab versions,
registers mmfrozen's classes into mmdet's registries, installs the checkpoint-loading fix
for torch >= 2.6 (:mod:`mmfrozen.checkpoint`) and lets configs inherit the package's configs as
``_base_ = 'mmfrozen::<path>'`` (:mod:`mmfrozen.mim`).
"""
from .version import __version__, check_stack

try:
    import mmcv
    import mmdet
    import mmengine
    import mmpretrain  # the ViT, EVA-02 and ResNet-RS backbones build on it
except ModuleNotFoundError as e:
    if e.name not in ('mmcv', 'mmdet', 'mmengine', 'mmpretrain'):
        raise
    from .version import INSTALL_HINT
    raise ImportError(f'mmfrozen {__version__} runs on MMDetection 3.x, but {e.name} is not '
                      f'installed. {INSTALL_HINT}') from e

# refuses (ImportError) only what is known not to work, saying why; warns about untested releases
check_stack({'mmcv': mmcv.__version__, 'mmengine': mmengine.__version__,
             'mmdet': mmdet.__version__, 'mmpretrain': mmpretrain.__version__})

from .checkpoint import register_checkpoint_loader  # noqa: E402
from . import datasets, evaluation, models, sweep  # noqa: E402,F401  (register their classes)
from .engine import FreezeBackboneHook, FreezeHook, FrozenRunner  # noqa: E402
from .engine.runner.checks import register_config_check  # noqa: E402
from .evaluation.metrics.lvis_metric import refuse_mmdet_lvis_metric  # noqa: E402
from .freezing import FreezeSpec, freeze_module  # noqa: E402,F401
from .mim import register_config_scope  # noqa: E402

register_checkpoint_loader()
register_config_scope()
# mmdet's LVISMetric stays registered as it is; a config that asks for it where it cannot run
# (numpy 2) is refused before anything is built, naming mmfrozen.LVISMetric
register_config_check(refuse_mmdet_lvis_metric)

__all__ = ['__version__', 'FreezeSpec', 'freeze_module', 'FreezeBackboneHook', 'FreezeHook',
           'FrozenRunner']
