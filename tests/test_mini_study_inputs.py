"""The mini-study's claims and summary on awkward inputs: runs with undefined per-class APs,
duplicated runs of one replicate. Pure functions on synthetic runs; nothing is trained."""
import math

import pytest

from mmfrozen.mini_study.claims import LARGE, SMALL, judge, per_class_points, per_class_rare_effect

_COUNTS = {'a': (2, 'r'), 'b': (8, 'r'), 'c': (50, 'c'), 'd': (200, 'f'), 'e': (800, 'f')}


def _runs(frozen_per_class, ft_ap=20.0):
    return {('frozen', LARGE, 'per_class'): frozen_per_class,
            ('ft', LARGE, 'per_class'): {k: ft_ap for k in _COUNTS},
            ('frozen', LARGE, 'ap'): 22.0, ('ft', LARGE, 'ap'): 20.0,
            ('frozen', SMALL, 'ap'): 18.0, ('ft', SMALL, 'ap'): 20.0}


def test_a_nan_per_class_ap_is_left_out_of_the_regression_not_spread_into_it():
    """A class whose AP is NaN (no instance of it in the validation split, as COCOeval reports
    it) is a class without an AP, like a missing one: the statistic comes from the others."""
    gain = {k: 10 - 3 * math.log(n) for k, (n, _) in _COUNTS.items()}
    with_nan = {k: 20 + g for k, g in gain.items()}
    with_nan['c'] = math.nan
    without = {k: v for k, v in with_nan.items() if k != 'c'}
    expected = per_class_rare_effect(_runs(without), _COUNTS)
    assert expected is not None and math.isfinite(expected)
    assert per_class_rare_effect(_runs(with_nan), _COUNTS) == pytest.approx(expected)
    assert 'c' not in {p[0] for p in per_class_points(_runs(with_nan), _COUNTS)}


def test_a_replicate_without_a_defined_value_is_named_not_dropped_silently():
    """Every class AP of one replicate NaN: the replicate is counted as missing and named, and
    n counts only the replicates that have a value."""
    good = {k: 25.0 - math.log(n) for k, (n, _) in _COUNTS.items()}
    by_rep = {(0, s): _runs(dict(good)) for s in range(3)}
    by_rep[(0, 3)] = _runs({k: math.nan for k in _COUNTS})
    by_rep[(0, 3)][('frozen', LARGE, 'ap')] = math.nan
    claims = {c['claim']: c for c in judge(by_rep, {0: _COUNTS})}
    for key in ('capacity', 'rare'):
        assert claims[key]['n'] == 3
        assert set(claims[key]['per_replicate']) == {'data0-seed0', 'data0-seed1', 'data0-seed2'}
        assert any(m.startswith('data0-seed3') for m in claims[key]['missing']), key
