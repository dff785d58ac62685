from __future__ import annotations

import itertools
import math
import random
from collections import Counter

import pytest

from fixtures.analysis.timing import (
    BalancedOrder,
    MachineLoad,
    Summary,
    cliffs_delta,
    decide_timing_leak,
    mann_whitney_u,
    midranks,
    normal_sf,
    quantile,
    summarise,
)


def two_sided_p(z: float) -> float:
    """Independent of the module: 2 * P(Z > z) via the complementary error function."""
    return math.erfc(z / math.sqrt(2))


# --- Mann-Whitney U: textbook data sets ----------------------------------------------------------------------------


def test_mwu_scipy_documentation_example() -> None:
    # Males vs females (scipy.stats.mannwhitneyu docs, after Conover): U1 = 17, asymptotic p = 0.11134688653314041.
    # By hand: ranks of males in the pooled sample are 3, 5, 7, 8, 9 -> R = 32, U = 32 - 5*6/2 = 17;
    # mu = 5*4/2 = 10, sigma = sqrt(5*4*10/12), z = (17 - 10 - 0.5) / sigma.
    result = mann_whitney_u([19, 22, 16, 29, 24], [20, 11, 17, 12])
    assert result.u == 17
    assert (result.n_a, result.n_b) == (5, 4)
    assert result.p_value == pytest.approx(0.11134688653314041, rel=1e-9)
    assert result.p_value == pytest.approx(two_sided_p(6.5 / math.sqrt(200 / 12)), rel=1e-12)


def test_mwu_tortoise_and_hare() -> None:
    # Wikipedia's race: finishing order T H H H H H T T T T T H. U counts pairs where the tortoise's rank is
    # larger (finished later): 25; the hare's U is 11. mu = 18, sigma = sqrt(6*6*13/12) = sqrt(39).
    tortoise = [1, 7, 8, 9, 10, 11]
    hare = [2, 3, 4, 5, 6, 12]
    result = mann_whitney_u(tortoise, hare)
    assert result.u == 25
    assert mann_whitney_u(hare, tortoise).u == 11
    assert result.p_value == pytest.approx(two_sided_p(6.5 / math.sqrt(39)), rel=1e-12)
    assert result.p_value == pytest.approx(0.2980, abs=5e-4)


def test_mwu_with_ties_uses_midranks_and_tie_correction() -> None:
    # Pooled: 1 | 2 2 2 | 3 3 | 4 4 -> ranks 1 | 3 3 3 | 5.5 5.5 | 7.5 7.5. R_a = 1 + 3 + 3 + 5.5 = 12.5,
    # U_a = 12.5 - 10 = 2.5, U_b = 13.5. Tie term = (27-3) + (8-2) + (8-2) = 36,
    # sigma^2 = 4*4/12 * (9 - 36/(8*7)) = 11.142857..., z = (13.5 - 8 - 0.5) / sigma = 1.4979.
    result = mann_whitney_u([1, 2, 2, 3], [2, 3, 4, 4])
    assert result.u == 2.5
    variance = 16 / 12 * (9 - 36 / 56)
    assert variance == pytest.approx(11.142857142857142)
    assert result.p_value == pytest.approx(two_sided_p(5 / math.sqrt(variance)), rel=1e-12)
    assert result.p_value == pytest.approx(0.13417, abs=1e-5)


def test_mwu_completely_separated_samples() -> None:
    # U = 400 = n_a * n_b; z = (400 - 200 - 0.5) / sqrt(20*20*41/12)
    result = mann_whitney_u([float(value) for value in range(100, 120)], [float(value) for value in range(20)])
    assert result.u == 400
    assert result.p_value == pytest.approx(two_sided_p(199.5 / math.sqrt(400 * 41 / 12)), rel=1e-9)
    assert result.p_value < 1e-7


def test_mwu_is_symmetric_in_its_p_value() -> None:
    a, b = [0.3, 0.1, 0.7, 0.9, 0.5], [0.2, 0.4, 0.45, 0.05]
    assert mann_whitney_u(a, b).p_value == pytest.approx(mann_whitney_u(b, a).p_value)
    assert mann_whitney_u(a, b).u + mann_whitney_u(b, a).u == len(a) * len(b)


def test_mwu_identical_samples_give_p_one() -> None:
    assert mann_whitney_u([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]).p_value == 1.0


def test_mwu_all_values_tied_gives_p_one() -> None:
    result = mann_whitney_u([5.0, 5.0], [5.0, 5.0, 5.0])
    assert result.p_value == 1.0
    assert result.u == 3.0


@pytest.mark.parametrize(("a", "b"), [([], [1.0]), ([1.0], []), ([math.nan], [1.0])])
def test_mwu_rejects_empty_and_nan_samples(a: list[float], b: list[float]) -> None:
    with pytest.raises(ValueError, match="sample"):
        mann_whitney_u(a, b)


def test_mwu_p_values_are_roughly_uniform_under_the_null() -> None:
    rng = random.Random(42)
    p_values = [mann_whitney_u([rng.random() for _ in range(30)], [rng.random() for _ in range(30)]).p_value
                for _ in range(400)]
    rejected = sum(p < 0.05 for p in p_values) / len(p_values)
    assert 0.01 < rejected < 0.09


def test_midranks() -> None:
    assert midranks([10, 20, 20, 5, 20]) == [2.0, 4.0, 4.0, 1.0, 4.0]


def test_normal_sf_known_values() -> None:
    assert normal_sf(0) == 0.5
    assert normal_sf(1.959963984540054) == pytest.approx(0.025, rel=1e-9)


# --- Cliff's delta ------------------------------------------------------------------------------------------------


def test_cliffs_delta_extremes() -> None:
    assert cliffs_delta([10, 11, 12], [1, 2]) == 1.0
    assert cliffs_delta([1, 2], [10, 11, 12]) == -1.0
    assert cliffs_delta([1, 2, 3], [1, 2, 3]) == 0.0


def test_cliffs_delta_matches_its_definition_and_u() -> None:
    a, b = [19, 22, 16, 29, 24], [20, 11, 17, 12]
    by_definition = (sum(x > y for x in a for y in b) - sum(x < y for x in a for y in b)) / (len(a) * len(b))
    assert cliffs_delta(a, b) == pytest.approx(by_definition)
    assert cliffs_delta(a, b) == pytest.approx(2 * 17 / 20 - 1)  # 0.7


def test_cliffs_delta_with_ties() -> None:
    # pairs: (1,1) tie, (1,2) <, (2,1) >, (2,2) tie -> (1 - 1) / 4
    assert cliffs_delta([1, 2], [1, 2]) == 0.0
    assert cliffs_delta([2, 2], [1, 2]) == 0.5


# --- summaries ----------------------------------------------------------------------------------------------------


def test_summarise_uses_linear_interpolation() -> None:
    assert summarise([4.0, 1.0, 3.0, 2.0]) == Summary(n=4, median=2.5, q1=1.75, q3=3.25, iqr=1.5)


def test_summarise_single_value() -> None:
    assert summarise([0.2]) == Summary(n=1, median=0.2, q1=0.2, q3=0.2, iqr=0.0)


def test_summarise_odd_count() -> None:
    summary = summarise([5, 1, 3, 2, 4])
    assert (summary.median, summary.q1, summary.q3) == (3, 2, 4)


def test_summarise_rejects_empty_samples() -> None:
    with pytest.raises(ValueError, match="empty"):
        summarise([])


def test_quantile_endpoints() -> None:
    assert quantile([1.0, 5.0, 9.0], 0.0) == 1.0
    assert quantile([1.0, 5.0, 9.0], 1.0) == 9.0


# --- decision -----------------------------------------------------------------------------------------------------

SLOW = [0.200, 0.210, 0.205, 0.220, 0.199, 0.215, 0.208, 0.202, 0.211, 0.207] * 3
FAST = [0.020, 0.021, 0.019, 0.025, 0.018, 0.022, 0.020, 0.024, 0.023, 0.021] * 3


def test_clear_difference_is_a_leak() -> None:
    verdict = decide_timing_leak(SLOW, FAST, alpha=0.01, min_effect=0.5, min_abs_diff_s=0.01,
                                 labels=("existing", "unknown"))
    assert verdict.leak
    assert verdict.delta == 1.0
    assert verdict.median_diff_s == pytest.approx(0.2075 - 0.0210)
    assert verdict.p_value < 1e-10
    assert verdict.message.startswith("existing answers measurably slower: median 0.2075 s (existing, n=30")
    assert "difference +186.5 ms" in verdict.message


def test_the_faster_first_sample_names_the_second_as_slower() -> None:
    verdict = decide_timing_leak(FAST, SLOW, alpha=0.01, min_effect=0.5, min_abs_diff_s=0.01,
                                 labels=("existing", "unknown"))
    assert verdict.leak
    assert verdict.delta == -1.0
    assert verdict.message.startswith("unknown answers measurably slower")


def test_significant_but_tiny_difference_is_not_a_leak() -> None:
    steady = [0.020 + index * 1e-5 for index in range(30)]
    shifted = [value + 0.001 for value in steady]
    verdict = decide_timing_leak(shifted, steady, alpha=0.01, min_effect=0.3, min_abs_diff_s=0.005)
    assert verdict.p_value < 0.01
    assert verdict.delta == 1.0
    assert not verdict.leak
    assert verdict.message.endswith("; 1.0 ms is below the minimum difference 5 ms")


def test_large_median_difference_with_small_effect_is_not_a_leak() -> None:
    a = [0.01] * 20 + [1.0] * 5
    b = [0.01] * 20 + [0.02] * 5
    verdict = decide_timing_leak(a, b, alpha=0.5, min_effect=0.5, min_abs_diff_s=0.0)
    assert not verdict.leak
    assert "below the minimum effect 0.5" in verdict.message


def test_noise_is_not_a_leak() -> None:
    rng = random.Random(1)
    a = [rng.gauss(0.1, 0.02) for _ in range(40)]
    b = [rng.gauss(0.1, 0.02) for _ in range(40)]
    verdict = decide_timing_leak(a, b, alpha=0.01, min_effect=0.3, min_abs_diff_s=0.005)
    assert not verdict.leak
    assert verdict.message.startswith("no measurable timing difference")
    assert "is not below alpha 0.01" in verdict.message


def test_every_condition_is_needed_at_its_boundary() -> None:
    verdict = decide_timing_leak(SLOW, FAST, alpha=0.01, min_effect=1.0, min_abs_diff_s=0.1865)
    assert verdict.leak  # |delta| == min_effect and the median difference equal to the minimum both count
    assert not decide_timing_leak(SLOW, FAST, alpha=0.01, min_effect=1.0, min_abs_diff_s=0.1866).leak


def test_summaries_are_part_of_the_verdict() -> None:
    verdict = decide_timing_leak([1.0, 2.0, 3.0], [4.0, 5.0], alpha=0.05, min_effect=0.1, min_abs_diff_s=0.0)
    assert verdict.summary_a == summarise([1.0, 2.0, 3.0])
    assert verdict.summary_b == summarise([4.0, 5.0])


@pytest.mark.parametrize(
    ("alpha", "min_effect", "min_abs_diff_s", "message"),
    [(0.0, 0.3, 0.0, "alpha"), (1.0, 0.3, 0.0, "alpha"), (0.05, 1.5, 0.0, "min_effect"),
     (0.05, -0.1, 0.0, "min_effect"), (0.05, 0.3, -1.0, "min_abs_diff_s")],
)
def test_invalid_thresholds_are_rejected(alpha: float, min_effect: float, min_abs_diff_s: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decide_timing_leak([1.0], [2.0], alpha=alpha, min_effect=min_effect, min_abs_diff_s=min_abs_diff_s)


# --- interleaving -------------------------------------------------------------------------------------------------


def rounds_of(order: list[str], width: int) -> list[list[str]]:
    return [order[index:index + width] for index in range(0, len(order), width)]


@pytest.mark.parametrize("cases", [["existing", "unknown"], ["existing", "disabled", "unknown"]])
def test_balanced_order_gives_every_case_once_per_round(cases: list[str]) -> None:
    order = BalancedOrder(seed=3).rounds(9, cases)
    assert all(sorted(round_) == sorted(cases) for round_ in rounds_of(order, len(cases)))


@pytest.mark.parametrize("cases", [["existing", "unknown"], ["existing", "disabled", "unknown"]])
def test_balanced_order_lets_each_case_follow_each_case_equally(cases: list[str]) -> None:
    """What a sample leaves behind (work after the answer) lands in the next one: every case must come after every
    case (itself included) about equally often, so that such carryover slows all cases alike."""
    for seed in range(10):
        order = BalancedOrder(seed=seed).rounds(30, cases)
        follows = Counter(itertools.pairwise(order))
        counts = [follows[(before, after)] for before in cases for after in cases]
        assert max(counts) - min(counts) <= 3, (seed, follows)  # of about 10 (3 cases) or 15 (2 cases) each
        positions = Counter((case, index % len(cases)) for index, case in enumerate(order))
        assert max(positions.values()) - min(positions.values()) <= 2, (seed, positions)


def test_shuffled_abba_blocks_put_a_case_after_the_other_more_often_than_after_itself() -> None:
    """Why not ABBA blocks (a shuffled round and its reverse): with two cases, about 5 of 8 samples of B follow an A,
    so what A's request leaves behind would slow B more often than A."""
    rng = random.Random(0)
    order: list[str] = []
    for _ in range(500):
        block = ["A", "B"]
        rng.shuffle(block)
        order += block + block[::-1]
    follows = Counter(itertools.pairwise(order))
    after_a = follows[("A", "B")] / (follows[("A", "B")] + follows[("B", "B")])
    assert 0.59 < after_a < 0.66
    balanced = BalancedOrder(seed=0).rounds(1000, ["A", "B"])
    follows = Counter(itertools.pairwise(balanced))
    assert abs(follows[("A", "B")] / (follows[("A", "B")] + follows[("B", "B")]) - 0.5) < 0.01


def test_balanced_order_carries_on_when_a_case_leaves() -> None:
    order = BalancedOrder(seed=1)
    first = order.rounds(8, ["existing", "disabled", "unknown"])
    then = order.rounds(6, ["disabled", "unknown"])
    assert Counter(first) == {"existing": 8, "disabled": 8, "unknown": 8}
    assert Counter(then) == {"disabled": 6, "unknown": 6}


def test_balanced_order_is_reproducible_and_seed_dependent() -> None:
    cases = ["A", "B", "C"]
    assert BalancedOrder(seed=1).rounds(10, cases) == BalancedOrder(seed=1).rounds(10, cases)
    assert any(BalancedOrder(seed=1).rounds(10, cases) != BalancedOrder(seed=seed).rounds(10, cases)
               for seed in range(2, 6))


def test_balanced_order_edge_cases() -> None:
    assert BalancedOrder(seed=1).rounds(0, ["A", "B"]) == []
    with pytest.raises(ValueError, match="negative"):
        BalancedOrder(seed=1).rounds(-1, ["A"])



def test_balanced_order_does_not_modify_the_cases() -> None:
    cases = ["A", "B", "C"]
    BalancedOrder(seed=2).rounds(4, cases)
    assert cases == ["A", "B", "C"]


# -- the measuring machine's load --------------------------------------------------------------------------------
def test_a_quiet_machine_gets_no_caution() -> None:
    load = MachineLoad(before=0.4, after=1.9, cores=2)
    assert not load.busy
    assert load.caution() == ""
    assert load.describe() == "load average 0.4 → 1.9 on 2 cores"


@pytest.mark.parametrize(("before", "after"), [(2.5, 1.0), (0.5, 3.4)])
def test_a_busy_machine_at_either_end_gets_a_caution(before: float, after: float) -> None:
    load = MachineLoad(before=before, after=after, cores=2)
    assert load.busy
    assert f"load average {before:.1f} → {after:.1f} on 2 cores" in load.caution()
    assert "re-run this check alone" in load.caution()
