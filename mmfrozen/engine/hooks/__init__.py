from .classifier_retrain_hook import ClassifierRetrainHook
from .freeze_backbone_hook import FreezeBackboneHook
from .freeze_hook import FreezeHook
from .share_frozen_with_ema_hook import ShareFrozenWithEMAHook

__all__ = ['FreezeHook', 'FreezeBackboneHook', 'ClassifierRetrainHook',
           'ShareFrozenWithEMAHook']
