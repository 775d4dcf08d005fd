"""The ``mmfrozen`` registry scope: an alias of mmdet's registries, for configs inherited as
``mmfrozen::<path>``.

mmfrozen registers every class straight into mmdet's registries. A config that inherits one of
ours through ``_base_ = 'mmfrozen::...'`` gets ``_scope_='mmfrozen'`` stamped by mmengine on
the dicts our file defines (e.g. the ``FreezeBackboneHook`` entry), and mmengine then builds
them in the registry of scope ``mmfrozen``, which it looks for in this module. Each registry
here is a child of mmdet's registry of the same name, and a lookup falls through to mmdet's
(where mmfrozen's classes are), as under ``mmdet`` scope.

The one class registered here is a stand-in for an mmdet class that cannot run on this stack,
under mmdet's name: ``METRICS`` holds :class:`mmfrozen.evaluation.LVISMetric`, which a config
chooses as ``type='mmfrozen.LVISMetric'`` (mmengine resolves the scoped name here from mmdet's
scope), while ``LVISMetric`` stays mmdet's.
"""
from mmdet import registry as _mmdet
from mmengine.registry import Registry

_NAMES = ('RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'DATASETS', 'DATA_SAMPLERS',
          'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'OPTIMIZERS',
          'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'METRICS',
          'EVALUATOR', 'TASK_UTILS', 'VISUALIZERS', 'VISBACKENDS', 'LOG_PROCESSORS')

#: mmdet registry name (``HOOKS``, ``MODELS``, ...) -> its ``mmfrozen``-scope child. Their
#: location, the package itself, registers all of mmfrozen's classes (into mmdet's registries).
REGISTRIES = {
    name: Registry(getattr(_mmdet, name).name, parent=getattr(_mmdet, name), scope='mmfrozen',
                   locations=['mmfrozen'])
    for name in _NAMES
}
