"""The gate: exit code of a run and the console summary the CLI prints."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from reports._records import (
    OUTCOMES,
    SEVERITIES,
    Outcome,
    Records,
    ResultRecord,
    Severity,
    check_sort_key,
    severity_rank,
)

__all__ = ["SEVERITIES", "CheckCoverage", "Summary", "exit_code_for", "failing", "summarise"]


def exit_code_for(results: Records, *, fail_on: Severity = Severity.LOW) -> int:
    """1 when any result failed with a severity at or above `fail_on`, else 0."""
    return 1 if failing(results, fail_on=fail_on) else 0


def failing(results: Records, *, fail_on: Severity = Severity.LOW) -> list[ResultRecord]:
    """The failed results at or above `fail_on`. A failure without a severity counts (the gate fails closed)."""
    return [
        result
        for result in results
        if result.outcome is Outcome.FAIL and severity_rank(result.severity) >= fail_on.rank
    ]


@dataclass(frozen=True)
class CheckCoverage:
    run: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class Summary:
    """Counts of a run: per outcome, per severity of failed and of accepted results, per check (run / skipped).

    Keys are the findings.json strings (`"fail"`, `"high"`), highest severity first; a result without a
    severity is not counted per severity.
    """

    outcomes: dict[str, int]
    fail_severities: dict[str, int]
    accepted_severities: dict[str, int]
    checks: dict[str, CheckCoverage] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())

    def coverage_line(self) -> str:
        """`unauthenticated_access 14 run / 2 skipped · invalid_token 84 run / 0 skipped`"""
        return " · ".join(
            f"{check} {counts.run} run / {counts.skipped} skipped" for check, counts in self.checks.items()
        )


def summarise(results: Records) -> Summary:
    """Count results. An item counts as run unless it was skipped (errors were run and went wrong)."""
    outcomes = Counter(result.outcome.value for result in results)
    failed = _severities(results, Outcome.FAIL)
    accepted = _severities(results, Outcome.ACCEPTED)
    skipped = Counter(result.check for result in results if result.outcome is Outcome.SKIP)
    run = Counter(result.check for result in results if result.outcome is not Outcome.SKIP)
    checks = {
        check: CheckCoverage(run=run[check], skipped=skipped[check])
        for check in sorted(run.keys() | skipped.keys(), key=check_sort_key)
    }
    return Summary(
        outcomes={outcome: outcomes[outcome] for outcome in OUTCOMES},
        fail_severities={severity: failed[severity] for severity in reversed(SEVERITIES)},
        accepted_severities={severity: accepted[severity] for severity in reversed(SEVERITIES)},
        checks=checks,
    )


def _severities(results: Records, outcome: Outcome) -> Counter[str]:
    return Counter(result.severity.value for result in results if result.outcome is outcome and result.severity)
