"""PHQ-9 scoring of the demo backend."""

from __future__ import annotations

import pytest

from demo import phq9


@pytest.mark.parametrize(
    ("answers", "total"),
    [([0] * 9, 0), ([3] * 9, 27), ([1, 2, 1, 0, 3, 1, 2, 0, 0], 10), ([0, 0, 0, 0, 0, 0, 0, 0, 1], 1)],
)
def test_score_is_the_sum_of_the_items(answers: list[int], total: int) -> None:
    assert phq9.score(answers) == total


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_severity_bands(total: int, band: str) -> None:
    assert phq9.severity(total) == band


@pytest.mark.parametrize("answers", [[0] * 8, [0] * 10, [], [0] * 8 + [4], [0] * 8 + [-1], [0] * 8 + [True]])
def test_invalid_answers_are_refused(answers: list[int]) -> None:
    with pytest.raises(ValueError, match="PHQ-9"):
        phq9.score(answers)


def test_negative_total_has_no_band() -> None:
    with pytest.raises(ValueError, match="negative"):
        phq9.severity(-1)
