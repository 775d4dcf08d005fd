from .classifier_retrain_hook import ClassifierRetrainHook
from .freeze_backbone_hook import FreezeBackboneHook
from .freeze_hook import FreezeHook

__all__ = ['FreezeHook', 'FreezeBackboneHook', 'ClassifierRetrainHook']
