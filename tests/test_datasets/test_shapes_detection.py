"""The long-tailed shapes detection set: LVIS buckets, COCO validity, byte-for-byte determinism."""
import hashlib
import json
import os
import os.path as osp
from collections import Counter

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from mmfrozen.datasets import LongTail, ShapesWorld, lvis_frequency, make_shapes_detection

SMALL = LongTail(rare=3, common=3, frequent=2, rare_range=(1, 10), common_range=(11, 30),
                 frequent_range=(101, 103))
WORLD = ShapesWorld(shapes=('circle', 'star', 'ring', 'arrow'), textures=('solid', 'dotted'))


def digest(root):
    h = hashlib.sha256()
    for dirpath, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            path = osp.join(dirpath, name)
            h.update(osp.relpath(path, root).encode())
            with open(path, 'rb') as f:
                h.update(f.read())
    return h.hexdigest()


@pytest.fixture(scope='module')
def small_set(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('det'))
    return make_shapes_detection(root, WORLD, SMALL, val_per_class=3, image_size=64, seed=3,
                                 workers=2)


def test_lvis_frequency_thresholds():
    assert [lvis_frequency(n) for n in (1, 10, 11, 100, 101)] == ['r', 'r', 'c', 'c', 'f']


def test_train_split_follows_the_long_tail(small_set):
    with open(osp.join(small_set.root, small_set.train_ann)) as f:
        train = json.load(f)
    images_of = {c['id']: set() for c in train['categories']}
    for a in train['annotations']:
        images_of[a['category_id']].add(a['image_id'])
    buckets = Counter()
    for cat in train['categories']:
        n = len(images_of[cat['id']])
        assert cat['image_count'] == n > 0, cat
        assert cat['frequency'] == lvis_frequency(n), cat
        assert cat['instance_count'] == sum(a['category_id'] == cat['id']
                                            for a in train['annotations'])
        buckets[cat['frequency']] += 1
    # the targets are met closely enough that every bucket keeps its planned classes
    assert buckets == Counter(r=SMALL.rare, c=SMALL.common, f=SMALL.frequent)
    assert set(small_set.frequency.values()) == {'r', 'c', 'f'}


def test_val_split_has_every_class_and_the_same_buckets(small_set):
    with open(osp.join(small_set.root, small_set.train_ann)) as f:
        train_cats = json.load(f)['categories']
    with open(osp.join(small_set.root, small_set.val_ann)) as f:
        val = json.load(f)
    assert val['categories'] == train_cats
    per_class = Counter(a['category_id'] for a in val['annotations'])
    assert all(per_class[c['id']] >= 3 for c in val['categories'])
    assert not set(i['id'] for i in val['images']) & set(
        a['image_id'] for a in json.load(open(osp.join(small_set.root,
                                                        small_set.train_ann)))['annotations'])


def test_annotations_are_valid_coco_and_match_the_pixels(small_set):
    for ann in (small_set.train_ann, small_set.val_ann):
        with open(osp.join(small_set.root, ann)) as f:
            data = json.load(f)
        ids = [a['id'] for a in data['annotations']]
        assert len(ids) == len(set(ids)) > 0  # mmdet's CocoDataset refuses repeated ids
        assert len({i['id'] for i in data['images']}) == len(data['images'])
    coco = COCO(osp.join(small_set.root, small_set.val_ann))
    for img_id in coco.getImgIds()[:10]:
        info = coco.loadImgs(img_id)[0]
        img = Image.open(osp.join(small_set.root, small_set.img_prefix, info['file_name']))
        assert img.size == (64, 64) and img.mode == 'RGB'
        anns = coco.loadAnns(coco.getAnnIds(imgIds=img_id))
        assert 1 <= len(anns) <= 10
        for a in anns:
            x, y, w, h = a['bbox']
            assert 0 <= x and 0 <= y and x + w <= 64 and y + h <= 64 and w > 0 and h > 0
            mask = coco.annToMask(a)
            assert mask.sum() == a['area'] > 0
            ys, xs = np.nonzero(mask)  # the box is the visible mask's extent
            assert [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1] == \
                a['bbox']


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    kw = dict(world=WORLD, long_tail=SMALL, val_per_class=2, image_size=48)
    a = make_shapes_detection(str(tmp_path / 'a'), seed=5, **kw)
    b = make_shapes_detection(str(tmp_path / 'b'), seed=5, workers=2, **kw)
    c = make_shapes_detection(str(tmp_path / 'c'), seed=6, **kw)
    assert digest(a.root) == digest(b.root)
    assert digest(a.root) != digest(c.root)


def test_bad_long_tail_is_refused():
    with pytest.raises(ValueError, match='rare'):
        LongTail(rare_range=(1, 12))
    with pytest.raises(ValueError, match='frequent'):
        LongTail(frequent_range=(90, 200))
    with pytest.raises(ValueError, match='the long tail has 8 classes, the world 32'):
        make_shapes_detection('/nonexistent', long_tail=SMALL)
