"""What a config means, read or edited without building a model.

Its mode (:mod:`.mode`), its freeze hooks and their specs (:mod:`.freeze`), whether its modules
start from pretrained weights (:mod:`.pretrained`), the fields of its name and its fine-tuned
twin (:mod:`.name`), and the edits the tools, the mini-study and the tests apply (:mod:`.edits`).
"""
from .edits import (dataset_repeats, disable_pretrained, innermost_dataset, rescale_schedule,
                    set_freeze_precision, set_image_scale, set_num_classes, stock_frozen_stages,
                    walk_dicts)
from .freeze import freeze_hook_cfgs, freeze_hooks, freeze_specs
from .mode import MODES, UNKNOWN, config_mode
from .name import NAME_MODES, ConfigName, NamedSchedule, twin_config_path
from .pretrained import (is_pretrained_init, loads_pretrained, pretrained_argument,
                         pretrained_inits, self_loading_modules)

__all__ = ['MODES', 'UNKNOWN', 'config_mode', 'freeze_hook_cfgs', 'freeze_hooks',
           'freeze_specs', 'NAME_MODES', 'ConfigName', 'NamedSchedule', 'twin_config_path',
           'is_pretrained_init', 'pretrained_inits', 'pretrained_argument',
           'self_loading_modules', 'loads_pretrained', 'walk_dicts', 'disable_pretrained',
           'innermost_dataset', 'dataset_repeats', 'set_num_classes',
           'set_image_scale', 'rescale_schedule', 'stock_frozen_stages', 'set_freeze_precision']
