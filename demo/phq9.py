"""PHQ-9 (Patient Health Questionnaire, 9 items): total score and severity band (Kroenke et al. 2001)."""

from __future__ import annotations

from collections.abc import Sequence

QUESTIONNAIRE = "PHQ-9"
ITEM_COUNT = 9
MAX_ITEM_SCORE = 3

# (lowest total score of the band, band)
SEVERITY_BANDS: tuple[tuple[int, str], ...] = (
    (20, "severe"),
    (15, "moderately_severe"),
    (10, "moderate"),
    (5, "mild"),
    (0, "minimal"),
)


def score(answers: Sequence[int]) -> int:
    """Sum of the nine item scores (0..27)."""
    if len(answers) != ITEM_COUNT:
        raise ValueError(f"PHQ-9 has {ITEM_COUNT} items, got {len(answers)} answers")
    for answer in answers:
        if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer <= MAX_ITEM_SCORE:
            raise ValueError(f"PHQ-9 answers are integers 0..{MAX_ITEM_SCORE}, got {answer!r}")
    return sum(answers)


def severity(total: int) -> str:
    for lowest, band in SEVERITY_BANDS:
        if total >= lowest:
            return band
    raise ValueError(f"negative PHQ-9 score: {total}")
