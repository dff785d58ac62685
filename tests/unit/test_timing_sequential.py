"""The sequential timing rule: looks after blocks of rounds, alpha split across them, and an early "no leak" when
the shift's confidence interval lies inside the minimum difference (fixtures/analysis/timing.py)."""

from __future__ import annotations

import random

import pytest

from fixtures.analysis.timing import (
    CONTINUE,
    LEAK,
    NO_LEAK,
    SequentialPlan,
    hodges_lehmann,
    look_at,
    sequential_verdict,
    shift_interval,
)

PLAN = SequentialPlan.every(first=10, step=5, maximum=30, alpha=0.01)
RULE = {"min_effect": 0.5, "min_abs_diff_s": 0.020}


def jittered(rng: random.Random, base: float, n: int = 30, spread: float = 0.004) -> list[float]:
    """Response times around `base` seconds with a right-skewed jitter, as a server's look."""
    return [base + rng.lognormvariate(0, 0.5) * spread for _ in range(n)]


# -- the plan ---------------------------------------------------------------------------------------------------
def test_looks_every_block_up_to_the_maximum() -> None:
    assert PLAN.looks == (10, 15, 20, 25, 30)
    assert SequentialPlan.every(first=10, step=7, maximum=30, alpha=0.01).looks == (10, 17, 24, 30)
    assert SequentialPlan.every(first=40, step=5, maximum=30, alpha=0.01).looks == (30,)


def test_alpha_is_split_across_the_looks_and_half_is_kept_for_the_last() -> None:
    levels = [PLAN.alpha_at(look) for look in range(len(PLAN.looks))]
    assert levels[-1] == pytest.approx(0.005)
    assert levels[:-1] == pytest.approx([0.00125] * 4)
    assert sum(levels) == pytest.approx(PLAN.alpha)
    assert sum(PLAN.futility_at(look) for look in range(len(PLAN.looks))) == pytest.approx(PLAN.alpha)
    assert PLAN.futility_at(len(PLAN.looks) - 1) == 0
    single = SequentialPlan((30,), 0.01)
    assert single.alpha_at(0) == 0.01  # one look: the fixed design


@pytest.mark.parametrize("looks", [(), (10, 10), (15, 10), (1, 10)])
def test_bad_looks_are_rejected(looks: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="looks"):
        SequentialPlan(looks, 0.01)


def test_bad_alpha_and_step_are_rejected() -> None:
    with pytest.raises(ValueError, match="alpha"):
        SequentialPlan((10,), 0.0)
    with pytest.raises(ValueError, match="step"):
        SequentialPlan.every(first=10, step=0, maximum=30, alpha=0.01)


# -- the shift and its interval ---------------------------------------------------------------------------------
def test_shift_interval_takes_the_order_statistics_of_the_pairwise_differences() -> None:
    # a_i - b_j = 10 i + j: the 100 differences are 0..99. For n = m = 10 at 95 %: 50 - 1.96 * sqrt(100 * 21 / 12)
    # = 24.07, so 24 differences are left out on each side: the interval is the 24th to the 77th smallest.
    a = [10.0 * i for i in range(10)]
    b = [-1.0 * j for j in range(10)]
    assert shift_interval(a, b, 0.05) == (23.0, 76.0)
    assert hodges_lehmann(a, b) == 49.5


def test_shift_interval_holds_the_true_shift() -> None:
    rng = random.Random(3)
    b = jittered(rng, 0.100)
    a = [value + 0.050 for value in jittered(rng, 0.100)]
    low, high = shift_interval(a, b, 0.01) or (0.0, 0.0)
    assert low < 0.050 < high
    assert hodges_lehmann(a, b) == pytest.approx(0.050, abs=0.003)


def test_too_few_samples_cannot_bound_the_shift() -> None:
    assert shift_interval([1.0, 2.0], [1.5, 2.5], 0.01) is None


# -- decisions on synthetic samples -----------------------------------------------------------------------------
def test_a_clear_leak_stops_at_the_first_look() -> None:
    rng = random.Random(1)
    result = sequential_verdict(jittered(rng, 0.250), jittered(rng, 0.100), PLAN, **RULE,
                                labels=("existing", "unknown"))
    assert (result.decision, result.rounds, result.look) == (LEAK, 10, 0)
    assert result.verdict.leak
    assert "existing answers measurably slower" in result.describe(0.020)
    assert "n=10" in result.verdict.message


def test_equal_distributions_stop_early_as_no_leak() -> None:
    rng = random.Random(2)
    result = sequential_verdict(jittered(rng, 0.200), jittered(rng, 0.200), PLAN, **RULE)
    assert (result.decision, result.rounds) == (NO_LEAK, 10)
    assert result.clear_early
    assert result.shift_interval is not None
    assert -0.020 < result.shift_interval[0] < result.shift_interval[1] < 0.020
    assert result.describe(0.020).endswith("ms lies within ±20 ms")
    assert result.describe(0.020).startswith("no measurable timing difference")


def test_a_borderline_difference_runs_to_the_maximum() -> None:
    # A shift right at the minimum difference in noise as wide as it: neither side is clear before the end.
    rng = random.Random(0)
    a = [value + 0.020 for value in jittered(rng, 0.100, spread=0.05)]
    b = jittered(rng, 0.100, spread=0.05)
    result = sequential_verdict(a, b, PLAN, **RULE)
    assert result.rounds == 30
    assert result.look == len(PLAN.looks) - 1
    assert result.decision in (LEAK, NO_LEAK)
    assert not result.clear_early


def test_an_undecided_interim_look_continues() -> None:
    rng = random.Random(4)
    a = [value + 0.020 for value in jittered(rng, 0.100, n=10, spread=0.02)]
    b = jittered(rng, 0.100, n=10, spread=0.02)
    result = look_at(a, b, PLAN, 0, **RULE)
    assert result.decision == CONTINUE
    assert not result.decided


def test_the_final_look_always_decides() -> None:
    rng = random.Random(5)
    a, b = jittered(rng, 0.100, spread=0.05), jittered(rng, 0.100, spread=0.05)
    assert look_at(a, b, PLAN, len(PLAN.looks) - 1, **RULE).decided


def test_samples_short_of_the_first_look_are_an_error() -> None:
    with pytest.raises(ValueError, match="first look"):
        sequential_verdict([0.1] * 5, [0.1] * 5, PLAN, **RULE)


def test_without_a_minimum_difference_no_early_no_leak() -> None:
    rng = random.Random(2)
    result = sequential_verdict(jittered(rng, 0.200), jittered(rng, 0.200), PLAN, min_effect=0.5, min_abs_diff_s=0)
    assert (result.decision, result.rounds) == (NO_LEAK, 30)


# -- error rates in seeded simulations --------------------------------------------------------------------------
def test_false_leaks_on_equal_distributions_stay_below_alpha() -> None:
    """Only the rank test decides here (no minimum effect or difference): the split keeps the chance of a false leak
    over all five looks at most alpha. Equal distributions of any shape give the same ranks, so uniform samples
    stand for every distribution."""
    plan = SequentialPlan.every(first=10, step=5, maximum=30, alpha=0.05)
    rng = random.Random(20261202)
    runs = 2000
    false = sum(sequential_verdict([rng.random() for _ in range(30)], [rng.random() for _ in range(30)], plan,
                                   min_effect=0, min_abs_diff_s=0).verdict.leak for _ in range(runs))
    assert false / runs <= plan.alpha


def test_false_leaks_with_the_profile_defaults_stay_below_alpha() -> None:
    rng = random.Random(17)
    runs = 1000
    false = sum(sequential_verdict(jittered(rng, 0.1, spread=0.03), jittered(rng, 0.1, spread=0.03), PLAN,
                                   **RULE).verdict.leak for _ in range(runs))
    assert false / runs <= PLAN.alpha


def test_a_real_leak_is_rarely_stopped_early_as_no_leak() -> None:
    """A shift of the minimum difference ends up inside the interval only with the interval's error rate."""
    rng = random.Random(8)
    runs = 1000
    early = 0
    for _ in range(runs):
        a = [value + 0.020 for value in jittered(rng, 0.1, spread=0.01)]
        early += sequential_verdict(a, jittered(rng, 0.1, spread=0.01), PLAN, **RULE).clear_early
    assert early / runs <= PLAN.alpha
