# The paper's LSJ schedule, 72 epochs, COCO boxes and masks: ./lsj-72e_coco-detection.py (batch
# 64, LR 0.16, drops at epochs 48 and 68) with what mmdet's LSJ instance base
# (lsj-100e_coco-instance.py) changes in its detection base: masks loaded in every pipeline and
# the segm metric beside bbox.
_base_ = './lsj-72e_coco-detection.py'


def _with_masks(pipeline):
    return [dict(step, with_mask=True) if step.type == 'LoadAnnotations' else step
            for step in pipeline]


# each pipeline edited where the detection base holds it (mmengine tags the top-level lists of an
# mmdet base with `_scope_`, not the copies inside the dataloaders)
train_pipeline = _with_masks(_base_.train_pipeline)
test_pipeline = _with_masks(_base_.test_pipeline)
train_dataloader = dict(dataset=dict(
    dataset=dict(pipeline=_with_masks(_base_.train_dataloader.dataset.dataset.pipeline))))
val_dataloader = dict(dataset=dict(pipeline=_with_masks(_base_.val_dataloader.dataset.pipeline)))
test_dataloader = dict(dataset=dict(pipeline=_with_masks(_base_.test_dataloader.dataset.pipeline)))
val_evaluator = dict(metric=['bbox', 'segm'])
test_evaluator = val_evaluator
