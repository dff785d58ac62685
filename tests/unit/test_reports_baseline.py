"""Baseline: accepting failed results by fingerprint, expiry, stale entries, the template."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from reports import (
    Acceptance,
    BaselineError,
    Outcome,
    ResultRecord,
    Severity,
    apply_baseline,
    fingerprint,
    load_baseline,
    load_findings,
    write_baseline,
    write_findings,
)
from reports._baseline import BaselineEntry

TODAY = dt.date(2025, 1, 14)


def _r(check: str, outcome: str, path: str = "/v1/entries/{entry_id}", **extra: Any) -> ResultRecord:
    return ResultRecord.from_dict(
        {
            "check": check,
            "method": "GET",
            "path": path,
            "outcome": outcome,
            "severity": "high",
            "title": f"{check} title",
            "message": "Expected 404, got `200 OK`",
            "fingerprint": fingerprint(check, "GET", path, extra.get("variant")),
            **extra,
        }
    )


def _entry(result: ResultRecord, expires: dt.date = dt.date(2025, 3, 31)) -> BaselineEntry:
    return BaselineEntry(result.fingerprint, "behind VPN until SEC-41", "jane@example.org", expires)


def _write(path: Path, entries: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump({"schema": "digasec/baseline/v1", "entries": entries}), encoding="utf-8")
    return path


def test_a_matching_failure_becomes_accepted_with_its_severity() -> None:
    failure = _r("cross_user_read", "fail")
    applied, stale = apply_baseline([failure], [_entry(failure)], TODAY)
    assert applied[0].outcome is Outcome.ACCEPTED
    assert applied[0].severity is Severity.HIGH
    assert applied[0].acceptance == Acceptance(
        fingerprint=failure.fingerprint,
        justification="behind VPN until SEC-41",
        owner="jane@example.org",
        expires="2025-03-31",
    )
    assert applied[0].to_dict()["acceptance"] == {
        "fingerprint": failure.fingerprint,
        "justification": "behind VPN until SEC-41",
        "owner": "jane@example.org",
        "expires": "2025-03-31",
    }
    assert stale == []
    assert failure.outcome is Outcome.FAIL  # the input is not changed


def test_the_expiry_day_still_holds() -> None:
    failure = _r("cross_user_read", "fail")
    applied, _ = apply_baseline([failure], [_entry(failure, expires=TODAY)], TODAY)
    assert applied[0].outcome is Outcome.ACCEPTED


def test_an_expired_acceptance_leaves_the_failure_and_says_so() -> None:
    failure = _r("cross_user_read", "fail")
    applied, stale = apply_baseline([failure], [_entry(failure, expires=TODAY - dt.timedelta(days=1))], TODAY)
    assert applied[0].outcome is Outcome.FAIL
    assert applied[0].acceptance is None
    assert "acceptance" not in applied[0].to_dict()
    assert applied[0].message == (
        "Expected 404, got `200 OK` (baseline acceptance by jane@example.org expired on 2025-01-13)"
    )
    assert stale == []


def test_entries_that_match_no_open_result_are_stale() -> None:
    failure = _r("cross_user_read", "fail")
    fixed = _r("cross_user_write", "pass")
    not_tested = _r("cross_user_delete", "skip")
    absent = BaselineEntry("0" * 64, "gone", "jane@example.org", dt.date(2025, 3, 31))
    baseline = [_entry(failure), _entry(fixed), _entry(not_tested), absent]
    applied, stale = apply_baseline([failure, fixed, not_tested], baseline, TODAY)
    assert [r.outcome.value for r in applied] == ["accepted", "pass", "skip"]
    assert stale == [baseline[1], absent]


def test_load_baseline_reads_dates_and_context(tmp_path: Path) -> None:
    failure = _r("cross_user_read", "fail")
    path = _write(
        tmp_path / "baseline.yaml",
        [
            {
                "fingerprint": failure.fingerprint.upper(),
                "justification": "j",
                "owner": "o",
                "expires": dt.date(2025, 3, 31),
                "check": "cross_user_read",
            },
            {"fingerprint": "a" * 64, "justification": "j", "owner": "o", "expires": "2025-04-01"},
        ],
    )
    entries = load_baseline(path)
    assert entries[0].fingerprint == failure.fingerprint
    assert entries[0].expires == dt.date(2025, 3, 31)
    assert entries[0].context == {"check": "cross_user_read"}
    assert entries[1].expires == dt.date(2025, 4, 1)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"justification": "j", "owner": "o", "expires": "2025-01-01"}, "fingerprint is empty: fill it in"),
        (
            {"fingerprint": "a" * 64, "justification": "", "owner": "o", "expires": "2025-01-01"},
            "justification is empty",
        ),
        (
            {"fingerprint": "a" * 64, "justification": "j", "owner": "o", "expires": "soon"},
            "expires: expected a date YYYY-MM-DD",
        ),
        (
            {"fingerprint": "abc", "justification": "j", "owner": "o", "expires": "2025-01-01"},
            "fingerprint must be 64 hex digits",
        ),
        (
            {"fingerprint": "a" * 64, "justification": "j", "owner": "o", "expires": "2025-01-01", "expiry": "x"},
            "unknown key 'expiry'. Did you mean 'expires'?",
        ),
    ],
)
def test_load_baseline_refuses_bad_entries(tmp_path: Path, entry: dict[str, Any], message: str) -> None:
    path = _write(tmp_path / "baseline.yaml", [entry])
    with pytest.raises(BaselineError, match=re.escape(f"entries[0]: {message}")):
        load_baseline(path)


def test_load_baseline_refuses_duplicates_and_other_files(tmp_path: Path) -> None:
    entry = {"fingerprint": "a" * 64, "justification": "j", "owner": "o", "expires": "2025-01-01"}
    with pytest.raises(BaselineError, match="listed twice"):
        load_baseline(_write(tmp_path / "dup.yaml", [entry, entry]))
    other = tmp_path / "other.yaml"
    other.write_text("- fingerprint: x\n", encoding="utf-8")
    with pytest.raises(BaselineError, match="schema: digasec/baseline/v1"):
        load_baseline(other)


def test_write_baseline_lists_failures_and_keeps_accepted_entries(tmp_path: Path) -> None:
    failure = _r("cross_user_read", "fail", variant="a->b")
    assert failure.fingerprint == fingerprint("cross_user_read", "GET", failure.path, "a->b")
    accepted = _r(
        "cross_user_delete",
        "accepted",
        acceptance={
            "justification": "soft delete",
            "owner": "jörg",
            "expires": "2025-03-31",
        },
    )
    findings = write_findings(tmp_path, {"id": "run"}, [failure, accepted, _r("invalid_token", "pass")])
    template = write_baseline(findings, tmp_path / "baseline.yaml")
    text = template.read_text(encoding="utf-8")
    assert text.startswith("# digasec baseline: accepted risks. Generated from findings.json.")
    data = yaml.safe_load(text)
    assert [e["fingerprint"] for e in data["entries"]] == [accepted.fingerprint, failure.fingerprint]
    assert data["entries"][1]["variant"] == "a->b"
    assert "jörg" in text
    with pytest.raises(BaselineError, match="justification is empty"):
        load_baseline(template)  # a new failure needs a justification before it is accepted
    data["entries"][1].update(justification="known", owner="jane", expires="2025-02-01")
    _write(template, data["entries"])
    applied, stale = apply_baseline(load_findings(findings).results, load_baseline(template), TODAY)
    assert [r.outcome.value for r in applied] == ["accepted", "accepted", "pass"]
    assert stale == []
