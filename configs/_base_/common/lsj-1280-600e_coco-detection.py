# ./lsj-600e_coco-detection.py at 1280 px, the input size of the paper's
# cascade configs (`input_size: [1280, 1280, 3]`): LSJ crop, batch padding (set
# `model.data_preprocessor` BatchFixedSizePad to it in the model) and test resize.
_base_ = ['./lsj-600e_coco-detection.py', './lsj_sizes.py']

image_size = (1280, 1280)
train_dataloader = dict(dataset=dict(dataset=dict(pipeline={{_base_.lsj1280_train_pipeline}})))
val_dataloader = dict(dataset=dict(pipeline={{_base_.lsj1280_test_pipeline}}))
test_dataloader = dict(dataset=dict(pipeline={{_base_.lsj1280_test_pipeline}}))
