"""Gate: exit code by severity threshold, and the console summary."""

from __future__ import annotations

import pytest

from reports import SEVERITIES, Outcome, ResultRecord, Severity, exit_code_for, summarise


def _r(check: str, outcome: str, severity: str | None = "high", path: str = "/v1/x") -> ResultRecord:
    return ResultRecord(
        check=check,
        method="GET",
        path=path,
        outcome=Outcome(outcome),
        severity=None if severity is None else Severity(severity),
    )


@pytest.mark.parametrize(
    ("severity", "fail_on", "expected"),
    [
        ("info", "low", 0),
        ("low", "low", 1),
        ("medium", "low", 1),
        ("medium", "high", 0),
        ("high", "high", 1),
        ("critical", "critical", 1),
        ("high", "critical", 0),
        ("info", "info", 1),
    ],
)
def test_exit_code_by_threshold(severity: str, fail_on: str, expected: int) -> None:
    results = [_r("cross_user_read", "pass", "critical"), _r("cross_user_read", "fail", severity)]
    assert exit_code_for(results, fail_on=Severity(fail_on)) == expected


def test_default_threshold_is_low() -> None:
    assert exit_code_for([_r("enumerable_id", "fail", "low")]) == 1
    assert exit_code_for([_r("enumerable_id", "fail", "info")]) == 0


@pytest.mark.parametrize("outcome", ["pass", "skip", "accepted", "error"])
def test_only_failed_results_fail_the_gate(outcome: str) -> None:
    assert exit_code_for([_r("cross_user_read", outcome, "critical")], fail_on=Severity.INFO) == 0


def test_a_failure_without_severity_fails_closed() -> None:
    assert exit_code_for([_r("cross_user_read", "fail", None)], fail_on=Severity.CRITICAL) == 1
    assert exit_code_for([_r("cross_user_read", "fail", "high")], fail_on=Severity.CRITICAL) == 0


def test_unknown_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="--fail-on must be one of info, low, medium, high, critical, got 'severe'"):
        Severity.parse("severe", what="--fail-on")
    assert Severity.parse("high") is Severity.parse(Severity.HIGH) is Severity.HIGH


def test_severities_are_ordered_by_rank_not_by_name() -> None:
    assert sorted(Severity) == [Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]
    assert Severity.LOW < Severity.HIGH < Severity.CRITICAL  # alphabetically "critical" < "high" < "low"
    assert max(Severity.HIGH, Severity.MEDIUM, Severity.CRITICAL) is Severity.CRITICAL


def test_no_results_pass() -> None:
    assert exit_code_for([]) == 0
    assert SEVERITIES == ("info", "low", "medium", "high", "critical")


def test_summarise_counts_and_coverage_line() -> None:
    results = [
        *[_r("invalid_token", "pass", path=f"/v1/{n}") for n in range(3)],
        _r("invalid_token", "fail", "critical"),
        _r("unauthenticated_access", "skip"),
        _r("unauthenticated_access", "skip"),
        _r("unauthenticated_access", "error"),
        _r("unauthenticated_access", "accepted", "medium"),
        _r("idp_mfa", "fail", "high"),
    ]
    summary = summarise(results)
    assert summary.outcomes == {"pass": 3, "fail": 2, "skip": 2, "accepted": 1, "error": 1}
    assert summary.total == 9
    assert summary.fail_severities == {"critical": 1, "high": 1, "medium": 0, "low": 0, "info": 0}
    assert summary.accepted_severities["medium"] == 1
    assert list(summary.checks) == ["unauthenticated_access", "invalid_token", "idp_mfa"]  # design order
    assert summary.coverage_line() == (
        "unauthenticated_access 2 run / 2 skipped · invalid_token 4 run / 0 skipped · idp_mfa 1 run / 0 skipped"
    )


def test_summarise_of_nothing() -> None:
    summary = summarise([])
    assert summary.total == 0
    assert summary.coverage_line() == ""
