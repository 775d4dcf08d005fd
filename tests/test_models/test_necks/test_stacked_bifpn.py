"""StackedBiFPN: shapes, capacity dials, gradients and argument checks."""
import pytest
import torch

import mmfrozen  # noqa: F401
from mmdet.registry import MODELS
from mmfrozen.models import StackedBiFPN

IN = [8, 16, 32, 64]


def feats(size=64, batch=2):
    return [torch.randn(batch, c, size // s, size // s) for c, s in zip(IN, (4, 8, 16, 32))]


def n_params(m):
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize('size', [64, 96, 100])
def test_levels_and_shapes(size):
    neck = MODELS.build(dict(type='StackedBiFPN', in_channels=IN, out_channels=16, num_outs=5,
                             num_repeats=2, start_level=1))
    x = feats(size)
    outs = neck(x)
    assert len(outs) == 5
    for lvl, out in enumerate(outs[:3]):
        assert out.shape == (2, 16) + tuple(x[lvl + 1].shape[-2:])
    for prev, out in zip(outs[2:], outs[3:]):  # P6, P7: stride-2 steps above P5
        assert out.shape[-2:] == tuple((s + 1) // 2 for s in prev.shape[-2:])


def test_depth_and_width_dials_grow_parameters_monotonically():
    per_repeat = [n_params(StackedBiFPN(IN, 16, num_repeats=r)) for r in (1, 2, 3, 4)]
    steps = [b - a for a, b in zip(per_repeat, per_repeat[1:])]
    assert all(s > 0 for s in steps) and len(set(steps)) == 1  # linear in num_repeats
    widths = [n_params(StackedBiFPN(IN, w, num_repeats=2)) for w in (8, 16, 32)]
    assert widths == sorted(widths) and widths[0] < widths[-1]


def test_all_parameters_get_gradients_and_fusion_weights_learn():
    neck = StackedBiFPN(IN, 16, num_outs=5, num_repeats=2)
    neck.init_weights()
    sum(o.square().mean() for o in neck(feats())).backward()
    missing = [n for n, p in neck.named_parameters() if p.grad is None]
    assert missing == []
    assert neck.stages[0].bu_fuse[0].weight.grad.abs().sum() > 0


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match='start_level'):
        StackedBiFPN(IN, 16, start_level=4)
    with pytest.raises(ValueError, match='num_outs'):
        StackedBiFPN(IN, 16, num_outs=2, start_level=0)
    with pytest.raises(ValueError, match='num_repeats'):
        StackedBiFPN(IN, 16, num_repeats=0)
    with pytest.raises(ValueError, match='expects 4 inputs'):
        StackedBiFPN(IN, 16)(feats()[:3])
