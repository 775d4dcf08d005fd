"""The balanced shapes classification set (upstream data of the mini-study)."""
import hashlib
import os.path as osp
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from mmfrozen.datasets import class_names, make_shapes_classification


def test_balanced_labelled_and_varied(tmp_path):
    data = make_shapes_classification(str(tmp_path), num_classes=8, train_per_class=4,
                                      val_per_class=2, image_size=32, seed=1)
    assert data.classes == class_names(8)
    for ann, per_class in ((data.train_ann, 4), (data.val_ann, 2)):
        with open(osp.join(data.root, ann)) as f:
            lines = [line.split() for line in f]
        assert Counter(int(label) for _, label in lines) == {c: per_class for c in range(8)}
        for name, _ in lines:
            img = Image.open(osp.join(data.root, data.img_prefix, name))
            assert img.size == (32, 32) and img.mode == 'RGB'
    # instances of one class differ (pose, colour, clutter), not copies
    with open(osp.join(data.root, data.train_ann)) as f:
        same_class = [name for name, label in (line.split() for line in f) if label == '0']
    arrays = [np.asarray(Image.open(osp.join(data.root, data.img_prefix, n)), np.int16)
              for n in same_class]
    assert all(np.abs(arrays[0] - a).mean() > 10 for a in arrays[1:])


def test_deterministic(tmp_path):
    def files(root):
        return {p: hashlib.sha256(open(osp.join(root, 'images', p), 'rb').read()).hexdigest()
                for p in ('train_00000.png', 'train_00005.png', 'val_00001.png')}
    a = make_shapes_classification(str(tmp_path / 'a'), num_classes=4, train_per_class=2,
                                   val_per_class=1, seed=2)
    b = make_shapes_classification(str(tmp_path / 'b'), num_classes=4, train_per_class=2,
                                   val_per_class=1, seed=2)
    assert files(a.root) == files(b.root)
    assert open(osp.join(a.root, a.train_ann)).read() == open(osp.join(b.root, b.train_ann)).read()


def test_bad_arguments():
    with pytest.raises(ValueError, match='num_classes'):
        class_names(49)
    with pytest.raises(ValueError, match='image_size'):
        make_shapes_classification('/nonexistent', image_size=8)
