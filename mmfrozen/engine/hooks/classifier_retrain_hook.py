"""``ClassifierRetrainHook``: stage-2 long-tail re-training of a trained detector.

In "Proper Reuse of Image Classification Features Improves Object Detection" (Vasconcelos,
Birodkar, Dumoulin, CVPR 2022) the LVIS detectors get a second, short training stage in which
only the final classifier layer is re-trained with a class-balanced loss (LVIS v1 box APr
19.3 -> 31.5 fine-tuned, 22.2 -> 33.2 frozen). This hook freezes the whole detector except the
final classification layer(s), through the same freezing mechanism as the backbone freeze
(:mod:`mmfrozen.freezing`), and optionally sets class-balanced weights (Cui et al., "Class-
Balanced Loss Based on Effective Number of Samples", CVPR 2019) on the classification loss.
"""
from typing import Dict, Optional, Sequence

import numpy as np
from mmengine.logging import print_log
from mmdet.models.losses import CrossEntropyLoss
from mmdet.registry import HOOKS

from ...freezing.spec import trainable_submodules, unwrap
from .freeze_hook import FreezeHook

#: Final classification layers of mmdet's two-stage heads: ``Shared2FCBBoxHead`` and friends
#: (``roi_head.bbox_head.fc_cls``) and each stage of a cascade (``roi_head.bbox_head.<i>.fc_cls``).
DEFAULT_CLASSIFIERS = ('roi_head.bbox_head.fc_cls', 'roi_head.bbox_head.*.fc_cls')


def _base_dataset(dataset):
    while hasattr(dataset, 'dataset'):  # ClassBalancedDataset, RepeatDataset, ...
        dataset = dataset.dataset
    return dataset


def instance_counts(dataset, num_classes: int) -> np.ndarray:
    """Number of non-ignored training instances of each class of an mmdet dataset."""
    dataset = _base_dataset(dataset)
    counts = np.zeros(num_classes, dtype=np.int64)
    for i in range(len(dataset)):
        for inst in dataset.get_data_info(i).get('instances', []):
            if not inst.get('ignore_flag', 0):
                counts[inst['bbox_label']] += 1
    return counts


def effective_number_weights(counts: Sequence[int], beta: float) -> np.ndarray:
    """Class-balanced weights ``(1 - beta) / (1 - beta ** n_c)``, scaled to mean 1.

    A class without training instances gets the weight of a class with one instance.
    """
    if not 0 <= beta < 1:
        raise ValueError(f'class_balanced_beta must be in [0, 1), got {beta}')
    n = np.maximum(np.asarray(counts, dtype=np.float64), 1)
    w = (1 - beta) / (1 - beta**n)
    return w * len(w) / w.sum()


@HOOKS.register_module()
class ClassifierRetrainHook(FreezeHook):
    """Freeze the whole detector but its final classification layer(s) (LVIS stage 2).

    Apply it to any trained detector config: load the stage-1 checkpoint with ``load_from``, use
    ``runner_type = 'FrozenRunner'`` and replace ``custom_hooks``::

        custom_imports = dict(imports=['mmfrozen'], allow_failed_imports=False)
        runner_type = 'FrozenRunner'
        load_from = 'work_dirs/<stage-1 config>/epoch_12.pth'
        custom_hooks = [dict(type='ClassifierRetrainHook', class_balanced_beta=0.999)]

    Everything but the ``trainable`` layers is frozen as :class:`FreezeHook` freezes a module
    (no gradients, out of the optimizer, norm layers in inference mode, fingerprinted and
    checked). With ``class_balanced_beta`` set, ``before_train`` counts the training instances
    of each class and sets effective-number weights on the cross-entropy classification loss
    of every bbox head that owns a trainable classifier (background weight 1).

    Args:
        trainable: ``fnmatch`` patterns of the layers to re-train, relative to the detector.
            Default: the ``fc_cls`` of mmdet's two-stage and cascade heads.
        class_balanced_beta: ``beta`` of the effective-number weights (e.g. 0.999); None keeps
            the loss as configured (use class-balanced sampling in the dataset instead).
        check_interval: Also check the frozen weights every N iterations.
    """

    def __init__(self,
                 trainable: Sequence[str] = DEFAULT_CLASSIFIERS,
                 class_balanced_beta: Optional[float] = None,
                 check_interval: Optional[int] = None) -> None:
        super().__init__(module='', trainable=tuple(trainable), allow_random_init=False,
                         check_interval=check_interval)
        if class_balanced_beta is not None:
            effective_number_weights([1], class_balanced_beta)  # validate early
        self.class_balanced_beta = class_balanced_beta
        self.class_weights: Optional[np.ndarray] = None

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if self.class_balanced_beta is None:
            return
        heads = self._classifier_heads(unwrap(runner.model))
        num_classes = {h.num_classes for h in heads.values()}
        if len(num_classes) != 1:
            raise ValueError(f'mmfrozen: bbox heads {sorted(heads)} disagree on num_classes '
                             f'{sorted(num_classes)}')
        counts = instance_counts(runner.train_loop.dataloader.dataset, num_classes.pop())
        self.class_weights = effective_number_weights(counts, self.class_balanced_beta)
        for name, head in heads.items():
            is_ce = isinstance(head.loss_cls, CrossEntropyLoss)
            if not is_ce or head.loss_cls.use_sigmoid:
                raise TypeError(
                    f'mmfrozen: class_balanced_beta sets class weights on a softmax '
                    f'CrossEntropyLoss, but {name}.loss_cls is {type(head.loss_cls).__name__}'
                    f'{" with use_sigmoid=True" if is_ce else ""}. Set '
                    'class_balanced_beta=None and balance the loss in the config.')
            head.loss_cls.class_weight = self.class_weights.tolist() + [1.0]  # + background
        print_log(f'mmfrozen: class-balanced loss (beta={self.class_balanced_beta}) on '
                  f'{sorted(heads)}: weights {self.class_weights.min():.3f} (most frequent class) '
                  f'.. {self.class_weights.max():.3f} (rarest), from '
                  f'{int(counts.sum())} training instances', logger='current')

    def _classifier_heads(self, model) -> Dict[str, object]:
        """Modules owning a trainable classifier layer and a ``loss_cls``, by name."""
        spec = self.specs[0]
        heads = {}
        modules = dict(model.named_modules())
        for name in trainable_submodules(model, spec):
            owner = name.rpartition('.')[0]
            head = modules.get(owner)
            if head is None or not hasattr(head, 'loss_cls') or not hasattr(head, 'num_classes'):
                raise ValueError(f'mmfrozen: {name} is not the classifier of a bbox head with '
                                 'loss_cls and num_classes; cannot set class-balanced weights.')
            heads[owner] = head
        return heads
