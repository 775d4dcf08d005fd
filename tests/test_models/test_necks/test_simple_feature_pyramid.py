"""SimpleFeaturePyramid: shapes, strides, norms, errors, and stacked under NAS-FPN."""
import pytest
import torch
from mmdet.registry import MODELS
from mmengine.registry import init_default_scope

import mmfrozen  # noqa: F401
from mmfrozen.models import SimpleFeaturePyramid


def test_vitdet_levels_from_one_map():
    neck = SimpleFeaturePyramid(in_channels=32, out_channels=16, num_outs=5)
    neck.init_weights()
    x = torch.randn(2, 32, 8, 8)  # a ViT/16 map of a 128x128 image
    outs = neck((torch.randn(2, 32, 4, 4), x))  # the last backbone output is used
    # strides 4, 8, 16, 32 from the scale factors 4, 2, 1, 0.5, then 64 by max pooling
    assert [tuple(o.shape) for o in outs] == [(2, 16, 32, 32), (2, 16, 16, 16), (2, 16, 8, 8),
                                             (2, 16, 4, 4), (2, 16, 2, 2)]
    sum(o.sum() for o in outs).backward()
    assert all(p.grad is not None for p in neck.parameters())


def test_channel_layer_norm_equals_layer_norm_over_channels():
    neck = SimpleFeaturePyramid(in_channels=8, out_channels=8, scale_factors=(1.0, ))
    norm = neck.lateral[0][1]
    with torch.no_grad():
        norm.weight.normal_()
        norm.bias.normal_()
    x = torch.randn(2, 8, 5, 7)
    ref = torch.nn.functional.layer_norm(x.permute(0, 2, 3, 1), (8, ), norm.weight, norm.bias,
                                         1e-6).permute(0, 3, 1, 2)
    torch.testing.assert_close(norm(x), ref)
    # other mmcv norms through norm_cfg
    gn = SimpleFeaturePyramid(in_channels=8, out_channels=8, scale_factors=(2.0, ),
                              norm_cfg=dict(type='GN', num_groups=4))
    assert isinstance(gn.lateral[0][1], torch.nn.GroupNorm)


def test_under_nasfpn_as_a_list_of_necks():
    """The configs stack it under mmdet's NAS-FPN: P3-P5 from the map, P6-P7 by NAS-FPN."""
    init_default_scope('mmdet')
    neck = MODELS.build([
        dict(type='SimpleFeaturePyramid', in_channels=32, out_channels=16,
             scale_factors=(2.0, 1.0, 0.5)),
        dict(type='NASFPN', in_channels=[16, 16, 16], out_channels=16, num_outs=5,
             stack_times=1, start_level=0, norm_cfg=dict(type='BN'))
    ])
    outs = neck((torch.randn(2, 32, 16, 16), ))  # a ViT/14 map of a 224x224 image
    assert [o.shape[-1] for o in outs] == [32, 16, 8, 4, 2]  # strides 7, 14, 28, 56, 112


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match='scale_factors'):
        SimpleFeaturePyramid(in_channels=8, scale_factors=(3.0, ))
    with pytest.raises(ValueError, match='finest level'):
        SimpleFeaturePyramid(in_channels=8, scale_factors=(0.5, 2.0))
    with pytest.raises(ValueError, match='num_outs'):
        SimpleFeaturePyramid(in_channels=8, scale_factors=(2.0, 1.0), num_outs=1)
    neck = SimpleFeaturePyramid(in_channels=8)
    with pytest.raises(ValueError, match="out_type='featmap'"):
        neck((torch.randn(2, 5, 8), ))
