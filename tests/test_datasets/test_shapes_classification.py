"""The balanced shapes classification set (upstream data of the mini-study)."""
import hashlib
import os.path as osp
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from mmfrozen.datasets import ShapesWorld, make_shapes_classification

WORLD = ShapesWorld(shapes=('circle', 'star', 'ring', 'arrow'), textures=('solid', 'dotted'))


def test_balanced_labelled_and_varied(tmp_path):
    data = make_shapes_classification(str(tmp_path), WORLD, train_per_class=4,
                                      val_per_class=2, image_size=32, seed=1)
    assert data.classes == WORLD.classes and len(data.classes) == 8
    assert data.classes[:2] == ('solid-circle', 'solid-star')
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


def test_deterministic_whatever_the_number_of_workers(tmp_path):
    def files(root):
        return {p: hashlib.sha256(open(osp.join(root, 'images', p), 'rb').read()).hexdigest()
                for p in ('train_00000.png', 'train_00005.png', 'val_00001.png')}
    kw = dict(world=WORLD, train_per_class=2, val_per_class=1, image_size=32, seed=2)
    a = make_shapes_classification(str(tmp_path / 'a'), **kw)
    b = make_shapes_classification(str(tmp_path / 'b'), workers=2, **kw)
    c = make_shapes_classification(str(tmp_path / 'c'), **dict(kw, seed=3))
    assert files(a.root) == files(b.root) != files(c.root)
    assert open(osp.join(a.root, a.train_ann)).read() == open(osp.join(b.root, b.train_ann)).read()


def test_world_knobs_change_the_pixels_not_the_labels(tmp_path):
    kw = dict(train_per_class=2, val_per_class=1, image_size=32, seed=4)
    a = make_shapes_classification(str(tmp_path / 'a'), WORLD, **kw)
    coarse = ShapesWorld(shapes=WORLD.shapes, textures=WORLD.textures, texture_period=(1.0, 1.2))
    b = make_shapes_classification(str(tmp_path / 'b'), coarse, **kw)
    assert open(osp.join(a.root, a.train_ann)).read() == open(osp.join(b.root, b.train_ann)).read()
    # a dotted object (labels 4-7) is drawn with another period; a solid one (0-3) is not
    def img(data, name):
        return np.asarray(Image.open(osp.join(data.root, 'images', name)), np.int16)
    assert (img(a, 'train_00000.png') == img(b, 'train_00000.png')).all()
    assert (img(a, 'train_00004.png') != img(b, 'train_00004.png')).any()


def test_bad_arguments():
    with pytest.raises(ValueError, match='shapes'):
        ShapesWorld(shapes=('circle', 'blob'))
    with pytest.raises(ValueError, match='textures'):
        ShapesWorld(textures=('solid', 'solid'))
    with pytest.raises(ValueError, match='dot_radius'):
        ShapesWorld(dot_radius=0.6)
    with pytest.raises(ValueError, match='image_size'):
        make_shapes_classification('/nonexistent', image_size=8)
    with pytest.raises(ValueError, match='object_scale'):
        make_shapes_classification('/nonexistent', object_scale=(0.3, 0.7))
