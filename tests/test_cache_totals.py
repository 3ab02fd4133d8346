"""ScaledTotals (a turn's calibrated running token totals, computed when read) behaves like the list
``[int(scale * n) for n in totals]`` it stands for."""

from __future__ import annotations

import os
from bisect import bisect_left, bisect_right

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from prefixlint.cache.simulator import ScaledTotals, TurnCache, first_at_least
from prefixlint.cache.tables import load_tables

CASES = [
    ([], 0.7),
    ([5], 1.3),
    ([1, 2, 3, 10, 10, 11, 400, 1_000_000], 0.83),
    ([3, 7, 7, 12, 2**40, 2**52], 1.0000001),
    (list(range(1, 300, 7)), 2.5),
    ([9, 18, 27, 36], 1 / 3),
]


@pytest.mark.parametrize(("totals", "scale"), CASES)
def test_scaled_totals_behave_like_the_list(totals: list[int], scale: float) -> None:
    expected = [int(scale * n) for n in totals]
    lazy = ScaledTotals(totals, scale)
    assert len(lazy) == len(expected)
    assert bool(lazy) == bool(expected)
    assert list(lazy) == expected and list(reversed(lazy)) == expected[::-1]
    assert lazy == expected and expected == lazy and not (lazy != expected)
    assert lazy == ScaledTotals(list(totals), scale)
    assert repr(lazy) == repr(expected)
    for i in range(-len(expected), len(expected)):
        assert lazy[i] == expected[i] and type(lazy[i]) is int
    for i in (len(expected), -len(expected) - 1):
        with pytest.raises(IndexError):
            lazy[i]
    for window in (slice(None), slice(1, None), slice(None, -1), slice(2, 5), slice(None, None, 2), slice(5, 1)):
        assert lazy[window] == expected[window]
    for value in (0, 1, 3, 10, 100, 2**45, 2**60):
        assert bisect_left(lazy, value) == bisect_left(expected, value)
        assert bisect_right(lazy, value) == bisect_right(expected, value)
        assert (value in lazy) == (value in expected)
    assert [a == b for a, b in zip(lazy, expected)] == [True] * len(expected)
    assert [c * 1.5 for c in lazy] == [c * 1.5 for c in expected]


@pytest.mark.parametrize(("totals", "scale"), CASES)
def test_first_at_least_is_bisect_left_of_the_items(totals: list[int], scale: float) -> None:
    expected = [int(scale * n) for n in totals]
    lazy = ScaledTotals(totals, scale)
    for value in sorted({0, 1, 2**45, 2**60, *expected, *(e + 1 for e in expected), *(e - 1 for e in expected)}):
        assert lazy.first_at_least(value) == bisect_left(expected, value), value
        assert first_at_least(lazy, value) == bisect_left(expected, value)
        assert first_at_least(expected, value) == bisect_left(expected, value)


@settings(max_examples=200, deadline=None, derandomize=not os.environ.get("HYP_DB"))
@given(
    st.lists(st.integers(0, 2**53), max_size=40).map(sorted),
    st.floats(min_value=1e-6, max_value=1e6, allow_nan=False),
    st.integers(0, 2**54),
)
@example([3, 3, 6, 9, 12], 1 / 3, 3)  # scale * n lands just below a whole number
@example([10, 29, 30, 31], 0.1, 3)
@example([7, 254700, 254701], 1.4, 356580)  # x / scale lies above 254700, whose item is x: one step back
@example([7, 10665, 10666], 1.4, 14931)  # x / scale lies at or below 10665, whose item is below x: one step on
@example([2**53 - 1, 2**53], 0.999999999, 2**53 - 2)
def test_first_at_least_matches_bisect_left_at_rounding_edges(totals: list[int], scale: float, value: int) -> None:
    expected = [int(scale * n) for n in totals]
    assert ScaledTotals(totals, scale).first_at_least(value) == bisect_left(expected, value)


@pytest.mark.parametrize("scale", [0.0, -0.5])
def test_first_at_least_without_ordered_items_bisects_them_as_they_are(scale: float) -> None:
    lazy = ScaledTotals([1, 5, 9], scale)
    for value in (-10, 0, 3, 10):
        assert lazy.first_at_least(value) == bisect_left(lazy, value)


def test_scaled_totals_differ_from_other_lists_and_non_lists() -> None:
    lazy = ScaledTotals([10, 20], 0.5)
    assert lazy != [5, 11] and lazy != [5] and lazy != ScaledTotals([10, 20], 0.6)
    assert lazy != (5, 10)  # like a list, never equal to a tuple
    with pytest.raises(TypeError):
        hash(lazy)


def test_a_turns_total_is_its_last_running_total() -> None:
    pricing = load_tables().model("anthropic", "claude-sonnet-4-5")
    assert TurnCache("anthropic", pricing, [], None).total == 0
    assert TurnCache("anthropic", pricing, [3, 9, 40], None).total == 40
    scaled = ScaledTotals([3, 9, 40], 0.9)
    assert TurnCache("anthropic", pricing, scaled, None).total == scaled[-1] == 36
