"""mmfrozen: frozen ImageNet backbones for MMDetection 3.x.

Implements "Proper Reuse of Image Classification Features Improves Object Detection"
(C. Vasconcelos, V. Birodkar, V. Dumoulin, CVPR 2022, arXiv:2204.00484). Importing the package
(e.g. through ``custom_imports = dict(imports=['mmfrozen'])``) checks the OpenMMLab versions,
registers mmfrozen's classes into mmdet's registries, installs the checkpoint-loading fix
for torch >= 2.6 (:mod:`mmfrozen.checkpoint`) and lets configs inherit the package's configs as
``_base_ = 'mmfrozen::<path>'`` (:mod:`mmfrozen.mim`).
"""
import mmcv
import mmdet
import mmengine
from mmengine.utils import digit_version

from .version import __version__

# name: (minimum inclusive, maximum exclusive, what to do)
_SUPPORTED = {
    'mmcv': (mmcv.__version__, '2.0.0', '2.2.0'),
    'mmengine': (mmengine.__version__, '0.10.0', '0.11.0'),
    'mmdet': (mmdet.__version__, '3.1.0', '3.4.0'),
}
for _name, (_have, _lo, _hi) in _SUPPORTED.items():
    if not digit_version(_lo) <= digit_version(_have) < digit_version(_hi):
        raise ImportError(f'mmfrozen {__version__} supports {_name}>={_lo},<{_hi}, but {_have} is '
                          'installed. Install a supported version (docs/installation.md); in '
                          'a checkout, `bash tools/setup_env.sh --force` installs the pinned ones.')

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
