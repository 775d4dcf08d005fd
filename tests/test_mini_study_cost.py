"""Claim 1 measured round-robin (mmfrozen.mini_study.cost) on the quick design's data: the
result is well formed and its ratios come from the timed steps (never who wins)."""
import math
import os.path as osp
import statistics

import pytest

from mmfrozen.datasets import make_shapes_detection
from mmfrozen.mini_study import QUICK
from mmfrozen.mini_study.cost import cost_claim

from .conftest import CONFIGS


def _twin(mode: str) -> str:
    return osp.join(CONFIGS, 'mini_study', f'fcos_r18-{mode}_fpn_1xb8-450it_shapes.py')


@pytest.fixture(scope='module')
def quick_data(tmp_path_factory):
    return make_shapes_detection(
        str(tmp_path_factory.mktemp('shapes')), QUICK.world, QUICK.long_tail,
        val_per_class=QUICK.det_val_per_class, image_size=QUICK.det_image_size,
        min_visible=QUICK.det_min_visible, seed=0)


def test_cost_claim_times_the_twins_round_robin_on_the_study_data(quick_data):
    import torch
    threads = torch.get_num_threads()
    out = cost_claim(_twin('ft'), _twin('frozen'), quick_data, rounds=2, iters=2, warmup=1,
                     threads=1, flops=True, batch_size=4)  # the configs': 8
    assert torch.get_num_threads() == threads  # restored
    assert out['configs'] == dict(ft='fcos_r18-ft_fpn_1xb8-450it_shapes',
                                  frozen='fcos_r18-frozen_fpn_1xb8-450it_shapes')
    assert (out['rounds'], out['iters'], out['warmup'], out['threads']) == (2, 2, 1, 1)
    assert out['batch_size'] == 4 and out['device'] == 'cpu'
    for twin in ('ft', 'frozen'):
        steps = out['steps_sec'][twin]
        assert len(steps) == 2 and all(len(s) == 2 for s in steps)
        assert all(t > 0 and math.isfinite(t) for s in steps for t in s)
        assert out['sec_per_iter'][twin] == [statistics.median(s) for s in steps]
    sec = out['sec_per_iter']
    ratio, diff = out['ratio'], out['difference_sec']
    assert ratio['per_round'] == [f / t for f, t in zip(sec['frozen'], sec['ft'])]
    assert diff['per_round'] == [f - t for f, t in zip(sec['frozen'], sec['ft'])]
    for summary, values in ((ratio, ratio['per_round']), (diff, diff['per_round'])):
        assert summary['n'] == 2
        assert summary['mean'] == pytest.approx(statistics.fmean(values))
        lo, hi = summary['ci95']
        assert math.isfinite(lo) and lo <= summary['mean'] <= hi and math.isfinite(hi)

    ft, frozen = out['twins']['ft'], out['twins']['frozen']
    assert ft['total_params'] == frozen['total_params']  # twins: one architecture
    assert ft['trainable_params'] == ft['total_params'] > frozen['trainable_params'] > 0
    # every trainable parameter of the fine-tuned twin gets a gradient; none of the frozen
    # backbone does, so the frozen twin's are its trainable ones
    assert ft['params_with_grad'] == ft['trainable_params']
    assert frozen['params_with_grad'] == frozen['trainable_params']
    # AdamW keeps two moments per trained element (and a step count per tensor)
    for twin in (ft, frozen):
        assert twin['optimizer_state_bytes'] >= 2 * 4 * twin['params_with_grad']
        assert twin['train_flops'] > 0
    assert ft['optimizer_state_bytes'] > frozen['optimizer_state_bytes']
    assert out['static_ratios']['trainable_params'] == pytest.approx(
        frozen['trainable_params'] / ft['trainable_params'])


def test_cost_claim_refuses_twins_in_the_wrong_order_and_bad_counts(quick_data):
    with pytest.raises(ValueError, match='rounds >= 1'):
        cost_claim(_twin('ft'), _twin('frozen'), quick_data, rounds=0)
    with pytest.raises(ValueError, match='fine-tuned twin, then the frozen one'):
        cost_claim(_twin('frozen'), _twin('ft'), quick_data, rounds=1, iters=1, warmup=0)
