# ./lsj-600e-b256_coco-detection.py at 640 px, the input size of the paper's
# RetinaNet configs (TF Model Garden's RetinaNet input size): LSJ crop, batch padding (set
# `model.data_preprocessor` BatchFixedSizePad to it in the model) and test resize.
_base_ = ['./lsj-600e-b256_coco-detection.py', './lsj_sizes.py']

image_size = (640, 640)
train_dataloader = dict(dataset=dict(dataset=dict(pipeline={{_base_.lsj640_train_pipeline}})))
val_dataloader = dict(dataset=dict(pipeline={{_base_.lsj640_test_pipeline}}))
test_dataloader = dict(dataset=dict(pipeline={{_base_.lsj640_test_pipeline}}))
