"""The sequential timing rule: looks after blocks of rounds, alpha split across them, and an early "no leak" when
the shift's confidence interval lies inside the minimum difference (fixtures/analysis/timing.py)."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from fixtures.analysis.timing import (
    CONTINUE,
    LEAK,
    NO_LEAK,
    SequentialPlan,
    hodges_lehmann,
    look_at,
    mann_whitney_u,
    rank_test_p,
    sequential_verdict,
    shift_interval,
    u_null_cdf,
)
from fixtures.api.account_flows import timing_plan
from fixtures.target.profile import AccountTimingSettings

PLAN = SequentialPlan.every(first=10, step=5, maximum=30, alpha=0.01)
RULE = {"min_effect": 0.5, "min_abs_diff_s": 0.020}
# The profile's defaults for a flow with three cases (two comparisons share alpha): looks after 8, 14, 20, 26, 30.
DEFAULT = timing_plan(AccountTimingSettings(), comparisons=2)


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


# -- the exact rank test ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("n_a", "n_b"), [(1, 1), (3, 4), (5, 5), (4, 7)])
def test_u_null_distribution_matches_counting_every_arrangement(n_a: int, n_b: int) -> None:
    ranks = range(n_a + n_b)
    counts = [0] * (n_a * n_b + 1)
    for chosen in itertools.combinations(ranks, n_a):
        counts[sum(1 for x in chosen for y in ranks if y not in chosen and x > y)] += 1
    total = math.comb(n_a + n_b, n_a)
    expected = list(itertools.accumulate(count / total for count in counts))
    assert u_null_cdf(n_a, n_b) == pytest.approx(expected)


def test_exact_p_of_perfect_separation_is_two_in_all_arrangements() -> None:
    a, b = [0.2 + i / 1000 for i in range(8)], [0.1 + i / 1000 for i in range(8)]
    assert rank_test_p(a, b) == pytest.approx(2 / math.comb(16, 8))  # 0.00016
    assert mann_whitney_u(a, b).p_value > 0.0009  # the normal approximation, far too cautious at 8 rounds


def test_ties_fall_back_to_the_normal_approximation() -> None:
    a, b = [1.0, 2.0, 2.0, 3.0], [2.0, 3.0, 4.0, 4.0]
    assert rank_test_p(a, b) == mann_whitney_u(a, b).p_value


def test_exact_interval_cut_follows_the_exact_distribution() -> None:
    # 8 against 8 at error 0.00125: P(U <= 3) = 7 / 12870 <= 0.000625 < P(U <= 4) = 12 / 12870, so the interval
    # runs from the 4th smallest to the 4th largest of the 64 differences.
    a = [float(i) for i in range(8)]
    b = [100.0 + 8 * j + 0.5 for j in range(8)]
    differences = sorted(x - y for x in a for y in b)
    assert shift_interval(a, b, 0.00125) == (differences[3], differences[-4])


# -- decisions with the profile's defaults ------------------------------------------------------------------------
def test_the_default_plan_looks_after_8_14_20_26_and_30_rounds() -> None:
    assert DEFAULT.looks == (8, 14, 20, 26, 30)
    assert DEFAULT.alpha == pytest.approx(0.005)


def test_default_a_clear_leak_is_decided_as_leak_at_the_first_look() -> None:
    rng = random.Random(11)
    result = sequential_verdict(jittered(rng, 0.170), jittered(rng, 0.020), DEFAULT, **RULE,
                                labels=("existing", "unknown"))
    assert (result.decision, result.rounds, result.look) == (LEAK, 8, 0)
    assert result.verdict.p_value < DEFAULT.alpha_at(0)


def test_default_a_clear_no_leak_is_decided_as_pass_at_the_first_look() -> None:
    rng = random.Random(12)
    result = sequential_verdict(jittered(rng, 0.300, spread=0.002), jittered(rng, 0.300, spread=0.002), DEFAULT,
                                **RULE)
    assert (result.decision, result.rounds) == (NO_LEAK, 8)
    assert result.clear_early
    assert not result.verdict.leak


def test_default_an_ambiguous_difference_runs_to_the_maximum() -> None:
    # A shift of half the minimum difference in noise wider than both: no look before the last can tell (in 188 of
    # 200 seeded draws the measurement ran to 30 rounds and ended as "no leak").
    rng = random.Random(14)
    a = [value + 0.010 for value in jittered(rng, 0.100, spread=0.05)]
    b = jittered(rng, 0.100, spread=0.05)
    result = sequential_verdict(a, b, DEFAULT, **RULE)
    assert (result.decision, result.rounds, result.look) == (NO_LEAK, 30, len(DEFAULT.looks) - 1)
    assert not result.clear_early


def test_default_false_leaks_stay_below_alpha_and_real_leaks_are_rarely_dropped_early() -> None:
    """False leaks: at most alpha over all looks (the rank test alone decides here). A real shift of exactly the
    minimum difference stopped early as "no leak": at most alpha too (the interval misses on its upper side with
    half its error at each interim look, about 0.002 in long simulations)."""
    rng = random.Random(2026)
    runs = 1000
    false = sum(sequential_verdict([rng.random() for _ in range(30)], [rng.random() for _ in range(30)], DEFAULT,
                                   min_effect=0, min_abs_diff_s=0).verdict.leak for _ in range(runs))
    assert false / runs <= DEFAULT.alpha
    rng, runs = random.Random(99), 2000
    early = sum(sequential_verdict([v + 0.020 for v in jittered(rng, 0.1, spread=0.01)],
                                   jittered(rng, 0.1, spread=0.01), DEFAULT, **RULE).clear_early for _ in range(runs))
    assert early / runs <= DEFAULT.alpha


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
