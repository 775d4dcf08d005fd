"""Freezing a part of a model: the one place where "frozen" is defined in mmfrozen.

Implements the backbone freezing of "Proper Reuse of Image Classification Features Improves
Object Detection" (Vasconcelos, Birodkar, Dumoulin, CVPR 2022). In the official code the
switch sets the Keras backbone ``trainable = False``; in PyTorch terms a frozen module here:

* has ``requires_grad=False`` on every parameter, so autograd records nothing for it when its
  input needs no gradient (no graph, no stored activations), and it is never handed to an
  optimizer (:func:`prune_optimizer`);
* runs every sub-module that holds no trainable part in inference mode (batch-norm
  statistics, dropout, drop-path), no matter how often ``model.train()`` is called. A module
  that holds a trainable part follows ``train()``/``eval()``: its own forward may branch on
  ``self.training`` for the trainable part's sake (FCOS scales box predictions by the stride
  only at test time, DINO builds denoising queries only in training), unless it declares
  ``mmfrozen_frozen_forward = True`` (class or instance attribute): its own computation is
  then frozen and runs in inference mode while the part inside it trains (:func:`attach_lora`
  declares it for the modules around the linears it adapts, so a LoRA ViT's attention dropout
  is off);
* can be fingerprinted (:class:`Fingerprint`) so a guard can prove it never changed.

A :class:`FreezeSpec` may keep named sub-modules trainable (residual adapters inside a frozen
backbone, the classifier in LVIS stage-2 re-training); everything else under the spec's path is
frozen. Hooks, the runner, the adapters, stage-2 re-training and the cost tool all call into this
package; none of them freezes anything by itself.
"""
from .fingerprint import Fingerprint, FrozenModuleChanged
from .freeze import FreezeReport, freeze_module, share_frozen_tensors
from .optimizer import prune_optimizer
from .spec import FreezeSpec

__all__ = ['FreezeSpec', 'FreezeReport', 'freeze_module', 'share_frozen_tensors',
           'prune_optimizer', 'Fingerprint', 'FrozenModuleChanged']
