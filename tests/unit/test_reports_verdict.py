"""The run's verdict (`reports.verdict.decide`) and how every writer shows the same one."""

from __future__ import annotations

import dataclasses
import html as html_module
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from reports import (
    Acceptance,
    Outcome,
    ResultRecord,
    Severity,
    decide,
    fingerprint,
    load_findings,
    write_findings,
    write_html,
    write_junit,
    write_sarif,
)
from reports._html import load_strings


def _r(outcome: str, severity: str | None = "high", *, check: str = "cross_user_read", n: int = 0) -> ResultRecord:
    path = f"/v1/things/{n}"
    return ResultRecord(
        check=check, method="GET", path=path, outcome=Outcome(outcome),
        severity=None if severity is None else Severity(severity), title=f"title {outcome}",
        message=f"message {n}", fingerprint=fingerprint(check, "GET", path), reason=f"reason {n}",
    )


def _many(outcome: str, count: int, start: int = 0, severity: str | None = "high") -> list[ResultRecord]:
    return [_r(outcome, severity, n=start + index) for index in range(count)]


RUN: dict[str, Any] = {"id": "run-1", "operations": 5, "fail_on": "low"}


# -- decide: every status ------------------------------------------------------------------------
def test_a_clean_run_passes_without_reasons() -> None:
    verdict = decide(RUN, _many("pass", 4), fail_on=Severity.LOW)
    assert (verdict.status, verdict.exit_code, verdict.reasons) == ("passed", 0, ())
    assert (verdict.tested, verdict.items, verdict.errors) == (4, 4, 0)


def test_a_finding_at_the_threshold_fails_and_one_below_does_not() -> None:
    results = [*_many("pass", 3), _r("fail", "medium", n=9)]
    failed = decide(RUN, results, fail_on=Severity.MEDIUM)
    assert (failed.status, failed.exit_code) == ("failed", 1)
    assert failed.reasons == ("1 failed item at or above severity medium",)
    assert decide(RUN, results, fail_on=Severity.HIGH).status == "passed"


def test_a_failure_without_severity_fails_closed() -> None:
    assert decide(RUN, [_r("fail", None)], fail_on=Severity.CRITICAL).status == "failed"


def test_an_item_in_error_fails_the_run_even_without_findings() -> None:
    verdict = decide(RUN, [*_many("pass", 5), _r("error", n=7)], fail_on=Severity.LOW)
    assert (verdict.status, verdict.exit_code, verdict.errors) == ("failed", 1, 1)
    assert verdict.reasons == ("1 item ended in error (no verdict: server error, timeout or transport error)",)


def test_accepted_items_count_as_tested_and_do_not_fail() -> None:
    verdict = decide(RUN, [_r("accepted", n=1), _r("pass", n=2)], fail_on=Severity.LOW)
    assert (verdict.status, verdict.tested) == ("passed", 2)


def test_mostly_skipped_run_is_not_tested_with_a_concrete_reason() -> None:
    results = [*_many("pass", 12), *_many("skip", 61, start=100)]
    verdict = decide(RUN, results, fail_on=Severity.LOW)
    assert (verdict.status, verdict.exit_code) == ("not_tested", 4)
    assert verdict.reasons == ("12 of 73 applicable items got a verdict (16 %), below gate.min_coverage 50 % "
                               "(0 further items do not apply to this target)",)


def _not_applicable(count: int, start: int = 500) -> list[ResultRecord]:
    return [dataclasses.replace(record, applies=False) for record in _many("skip", count, start=start)]


def test_skips_that_do_not_apply_are_left_out_of_the_coverage() -> None:
    # 44 tested, 7 not tested, 56 that cannot apply (public operations, forged JWTs on a session cookie): 86 %
    results = [*_many("pass", 44), *_many("skip", 7, start=100), *_not_applicable(56)]
    verdict = decide(RUN, results, fail_on=Severity.LOW)
    assert (verdict.status, verdict.items, verdict.applicable, verdict.not_applicable) == ("passed", 107, 51, 56)
    assert round(verdict.coverage, 2) == 0.86
    assert verdict.to_dict()["coverage"] == {"tested": 44, "items": 107, "not_applicable": 56, "min_coverage": 0.5}


def test_skips_that_were_not_tested_still_count_against_the_coverage() -> None:
    results = [*_many("pass", 2), *_many("skip", 3, start=100), *_not_applicable(10)]
    verdict = decide(RUN, results, fail_on=Severity.LOW)
    assert verdict.status == "not_tested"
    assert verdict.reasons == ("2 of 5 applicable items got a verdict (40 %), below gate.min_coverage 50 % "
                               "(10 further items do not apply to this target)",)


def test_a_run_where_nothing_applies_is_not_tested() -> None:
    verdict = decide(RUN, _not_applicable(4), fail_on=Severity.LOW)
    assert (verdict.status, verdict.exit_code) == ("not_tested", 4)
    assert verdict.reasons == ("none of the 4 test items applies to this target: nothing was tested",)


def test_html_lists_skips_that_do_not_apply_after_the_untested_ones(tmp_path: Path) -> None:
    results = [*_many("pass", 4), _r("skip", n=100), *_not_applicable(2)]
    html = html_module.unescape(write_all(tmp_path, RUN, results, lang="en")["html"])
    skipped = html[html.index('<section id="skipped">'):]
    strings = load_strings()["en"]
    assert skipped.index("reason 100") < skipped.index("reason 500") < skipped.index(strings["does_not_apply"])
    assert strings["verdict_skipped"]["one"] in html  # the warning counts the one untested skip only


def test_junit_says_which_skips_do_not_apply(tmp_path: Path) -> None:
    junit = write_all(tmp_path, RUN, [*_many("pass", 2), *_not_applicable(1)], lang="en")["junit"]
    assert [node.get("message") for node in junit.iter("skipped")] == ["does not apply: reason 500"]
    stored = load_findings(tmp_path / "findings.json").results  # findings.json keeps the kind of skip
    assert [(r.outcome, r.applies) for r in stored] == [(Outcome.PASS, True)] * 2 + [(Outcome.SKIP, False)]


def test_errors_do_not_count_as_tested() -> None:
    results = [*_many("pass", 2), *_many("error", 3, start=10)]
    verdict = decide(RUN, results, fail_on=Severity.LOW)
    assert verdict.status == "failed"  # errors win over not tested, and both reasons are listed
    assert [detail.code for detail in verdict.details] == ["errors", "coverage"]


@pytest.mark.parametrize(
    ("tested", "skipped", "minimum", "status"),
    [
        (5, 5, 0.5, "passed"),  # exactly the minimum is enough
        (4, 6, 0.5, "not_tested"),
        (3, 7, 0.3, "passed"),  # 0.3 is not 0.30000000000000004 here
        (1, 2, 1 / 3, "passed"),
        (0, 4, 0.0, "passed"),  # min_coverage 0 switches the coverage rule off
        (9, 1, 1.0, "not_tested"),
        (10, 0, 1.0, "passed"),
    ],
)
def test_coverage_boundaries(tested: int, skipped: int, minimum: float, status: str) -> None:
    results = [*_many("pass", tested), *_many("skip", skipped, start=100)]
    run = {**RUN, "gate": {"min_coverage": minimum}}
    assert decide(run, results, fail_on=Severity.LOW).status == status


def test_below_the_minimum_the_percentage_is_rounded_down() -> None:
    results = [*_many("pass", 199), *_many("skip", 201, start=1000)]  # 49.75 %
    verdict = decide(RUN, results, fail_on=Severity.LOW)
    assert verdict.reasons == ("199 of 400 applicable items got a verdict (49 %), below gate.min_coverage 50 % "
                               "(0 further items do not apply to this target)",)


def test_a_spec_without_operations_is_not_tested() -> None:
    verdict = decide({**RUN, "operations": 0}, _many("skip", 3), fail_on=Severity.LOW)
    assert (verdict.status, verdict.exit_code) == ("not_tested", 4)
    assert verdict.reasons[0] == "the OpenAPI document has no operations: nothing was tested"


def test_a_run_without_items_is_not_tested() -> None:
    verdict = decide({}, [], fail_on=Severity.LOW)
    assert (verdict.status, verdict.reasons) == ("not_tested", ("no test item was run",))


def test_run_health_reasons_make_a_run_not_tested_even_with_full_coverage() -> None:
    health = [{"code": "no_baseline", "detail": "no owner request of user2 succeeded"},
              {"code": "empty_spec", "detail": "the catalogue has no operations"}]
    verdict = decide({**RUN, "operations": 0, "not_tested": health}, _many("pass", 3), fail_on=Severity.LOW)
    assert verdict.status == "not_tested"
    # the declared empty_spec replaces the verdict's own, so it is listed once
    assert verdict.reasons == ("no owner request of user2 succeeded", "the catalogue has no operations")


def test_an_aborted_run_exits_3_and_lists_every_reason() -> None:
    run = {**RUN, "aborted": "the backend stopped answering at http://127.0.0.1:9/health"}
    verdict = decide(run, [_r("fail", n=1), _r("error", n=2), *_many("skip", 5, start=10)], fail_on=Severity.LOW)
    assert (verdict.status, verdict.exit_code) == ("aborted", 3)
    assert [detail.code for detail in verdict.details] == ["aborted", "failed", "errors", "coverage"]
    assert verdict.reasons[0] == "the run was stopped early: the backend stopped answering at http://127.0.0.1:9/health"


def test_interrupted_wins_over_everything() -> None:
    run = {**RUN, "interrupted": True, "aborted": "gone", "operations": 0}
    verdict = decide(run, [_r("fail")], fail_on=Severity.LOW)
    assert (verdict.status, verdict.exit_code) == ("interrupted", 130)
    assert [detail.code for detail in verdict.details] == ["interrupted", "aborted", "failed", "empty_spec"]


def test_the_verdict_dict_is_what_findings_json_holds() -> None:
    data = decide(RUN, [_r("pass"), _r("skip", n=2), _r("error", n=3)], fail_on=Severity.LOW).to_dict()
    assert data["status"] == "failed"
    assert data["exit_code"] == 1
    assert data["coverage"] == {"tested": 1, "items": 3, "not_applicable": 0, "min_coverage": 0.5}
    assert data["errors"] == 1
    assert json.loads(json.dumps(data)) == data


# -- every writer shows the same verdict ---------------------------------------------------------
SCENARIOS: dict[str, tuple[dict[str, Any], list[ResultRecord], str]] = {
    "passed": (RUN, _many("pass", 3), "passed"),
    "failed": (RUN, [_r("fail", n=1), _r("pass", n=2)], "failed"),
    "not_tested": ({**RUN, "operations": 0}, _many("skip", 2), "not_tested"),
    "aborted": ({**RUN, "aborted": "the backend went away"}, [_r("error", n=1), _r("pass", n=2)], "aborted"),
    "interrupted": ({**RUN, "interrupted": True}, _many("pass", 2), "interrupted"),
}


def write_all(out: Path, run: dict[str, Any], results: list[ResultRecord], lang: str = "en") -> dict[str, Any]:
    write_findings(out, run, results)
    junit = ET.parse(write_junit(out, run, results)).getroot()
    sarif = json.loads(write_sarif(out, run, results).read_text(encoding="utf-8"))
    html = write_html(out, run, results, lang=lang).read_text(encoding="utf-8")
    return {"findings": load_findings(out / "findings.json").run["verdict"], "junit": junit, "sarif": sarif,
            "html": html}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_writer_shows_the_same_verdict(tmp_path: Path, name: str) -> None:
    run, results, status = SCENARIOS[name]
    written = write_all(tmp_path, run, results)
    assert written["findings"]["status"] == status
    properties = {p.get("name"): p.get("value") for p in written["junit"].iter("property")}
    assert properties["digasec.verdict"] == status
    verdict_cases = [c for c in written["junit"].iter("testcase") if c.get("classname") == "digasec.verdict"]
    assert len(verdict_cases) == (0 if status == "passed" else 1)
    sarif_run = written["sarif"]["runs"][0]
    assert sarif_run["properties"]["digasec/verdict"]["status"] == status
    invocation = sarif_run["invocations"][0]
    assert invocation["exitCode"] == written["findings"]["exit_code"]
    assert invocation["executionSuccessful"] is (status in ("passed", "failed"))
    assert f'data-status="{status}"' in written["html"]
    assert load_strings()["en"]["verdict_status"][status] in written["html"]


def test_a_not_passed_junit_verdict_is_a_failure_a_ci_sees(tmp_path: Path) -> None:
    run, results, _ = SCENARIOS["not_tested"]
    suite = write_all(tmp_path, run, results)["junit"].find("testsuite")
    assert suite is not None
    assert suite.get("failures") == "1"
    case = next(c for c in suite.iter("testcase") if c.get("classname") == "digasec.verdict")
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == "verdict NOT TESTED (exit code 4)"
    assert "the OpenAPI document has no operations" in (failure.text or "")


def test_sarif_carries_findings_accepted_ones_suppressed(tmp_path: Path) -> None:
    accepted = ResultRecord(
        check="invalid_token", method="GET", path="/v1/x", outcome=Outcome.ACCEPTED, severity=Severity.LOW,
        title="t", fingerprint=fingerprint("invalid_token", "GET", "/v1/x"),
        acceptance=Acceptance(fingerprint="f", justification="behind the VPN", owner="o", expires="2030-01-01"),
    )
    results = [_r("fail", n=1), _r("fail", "medium", n=2), accepted, _r("pass", n=3)]
    sarif_run = write_all(tmp_path, RUN, results)["sarif"]["runs"][0]
    assert [r["ruleId"] for r in sarif_run["results"]] == ["cross_user_read", "cross_user_read", "invalid_token"]
    suppressed = [r for r in sarif_run["results"] if r.get("suppressions")]
    assert suppressed == [r for r in sarif_run["results"] if r["ruleId"] == "invalid_token"]
    assert suppressed[0]["suppressions"][0]["justification"] == "behind the VPN"
    assert {rule["id"] for rule in sarif_run["tool"]["driver"]["rules"]} == {"cross_user_read", "invalid_token"}


def test_sarif_notifies_errors_abort_and_not_tested(tmp_path: Path) -> None:
    run = {**RUN, "aborted": "the backend went away", "operations": 0}
    results = [_r("error", n=1), _r("pass", n=2)]
    invocation = write_all(tmp_path, run, results)["sarif"]["runs"][0]["invocations"][0]
    ids = [n["descriptor"]["id"] for n in invocation["toolExecutionNotifications"]]
    assert ids == ["digasec/aborted", "digasec/empty_spec", "digasec/item_error"]
    item = invocation["toolExecutionNotifications"][-1]
    assert item["message"]["text"] == "GET /v1/things/1 [cross_user_read]: reason 1"
    assert item["locations"][0]["logicalLocations"][0]["name"] == "GET /v1/things/1"
    assert invocation["executionSuccessful"] is False


def test_errors_alone_make_the_sarif_execution_unsuccessful(tmp_path: Path) -> None:
    invocation = write_all(tmp_path, RUN, [_r("error", n=1), *_many("pass", 4, start=5)])["sarif"]["runs"][0][
        "invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["exitCode"] == 1


@pytest.mark.parametrize(
    ("lang", "label", "reason"),
    [
        ("en", "NOT TESTED", "Only 1 of 4 applicable test items got a verdict (25 %), below the gate's minimum of "
                             "50 %"),
        ("de", "NICHT GEPRÜFT", "Nur 1 von 4 anwendbaren Prüfpunkten haben ein Ergebnis (25 %), weniger als das "
                                "Minimum von 50 %"),
    ],
)
def test_html_verdict_box_in_both_languages(tmp_path: Path, lang: str, label: str, reason: str) -> None:
    html = write_all(tmp_path, RUN, [_r("pass"), *_many("skip", 3, start=5)], lang=lang)["html"]
    start = html.index('<section id="verdict">')
    box = html_module.unescape(html[start:html.index("</section>", start)])
    assert label in box
    assert reason in box
    assert load_strings()[lang]["verdict_error_count"].format(count=0) in box


def test_html_verdict_box_of_an_aborted_run_names_the_problem_in_german(tmp_path: Path) -> None:
    run, results, _ = SCENARIOS["aborted"]
    html = write_all(tmp_path, run, results, lang="de")["html"]
    assert "! ABGEBROCHEN" in html
    assert "Der Lauf wurde vorzeitig beendet: the backend went away" in html
    assert load_strings()["de"]["verdict_error_count"].format(count=1) in html
    assert "Exit-Code von digasec run: 3" in html


def test_html_translates_run_health_reasons_and_falls_back_for_unknown_codes(tmp_path: Path) -> None:
    run = {**RUN, "not_tested": [{"code": "credential_lost", "detail": "user2 from item 7 on"},
                                 {"code": "something_new", "detail": "a new reason"}]}
    html = write_all(tmp_path, run, _many("pass", 2), lang="de")["html"]
    assert "Ein Zugangsnachweis wurde während des Laufs ungültig und konnte nicht erneuert werden: user2" in html
    assert "Es wurde nicht genug geprüft: a new reason" in html


def test_both_languages_have_a_text_for_every_status_and_reason() -> None:
    strings = load_strings()
    codes = {"interrupted", "aborted", "failed", "errors", "empty_spec", "no_items", "none_applies", "coverage",
             "no_baseline",
             "credential_lost", "seeding_failed", "other"}
    for lang in ("en", "de"):
        assert set(strings[lang]["verdict_status"]) == {"passed", "failed", "not_tested", "aborted", "interrupted"}
        assert set(strings[lang]["verdict_reasons"]) == codes
