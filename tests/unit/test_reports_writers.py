"""findings.json, junit.xml and report.html writers, fed a realistic sample of result records."""

from __future__ import annotations

import hashlib
import json
import random
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

import reports
from reports import (
    SCHEMA,
    Evidence,
    FindingsError,
    Outcome,
    ResultRecord,
    Severity,
    fingerprint,
    load_findings,
    load_requirement_catalogue,
    write_findings,
    write_html,
    write_junit,
)
from reports._evidence import curl_command, xml_safe
from reports._html import load_strings

BASE_URL = "http://127.0.0.1:8000"
INJECTED = "<script>alert('pwned')</script>"


def _result(check: str, method: str, path: str, outcome: str, **extra: Any) -> ResultRecord:
    return ResultRecord.from_dict(_raw(check, method, path, outcome, **extra))


def _raw(check: str, method: str, path: str, outcome: str, **extra: Any) -> dict[str, Any]:
    """A result record in its findings.json form."""
    variant = extra.get("variant")
    record: dict[str, Any] = {
        "check": check,
        "method": method,
        "path": path,
        "outcome": outcome,
        "severity": "info",
        "title": "",
        "message": "",
        "fingerprint": fingerprint(check, method, path, variant),
        "requirements": load_requirement_catalogue().requirements_for(check),
        "evidence": [],
        "nodeid": f"suites/test_x.py::test_{check}[{method} {path}{'-' + variant if variant else ''}]",
        "duration_s": 0.05,
    }
    record.update(extra)
    return record


def sample_run() -> dict[str, Any]:
    return {
        "id": "20250114T101500Z-3f9a",
        "started": "2025-01-14T10:15:00+00:00",
        "finished": "2025-01-14T10:17:42+00:00",
        "profile": "profiles/demo-process.yaml",
        "profile_sha256": hashlib.sha256(b"profile").hexdigest(),
        "openapi_sha256": hashlib.sha256(b"openapi").hexdigest(),
        "harness_version": "0.1.0",
        "harness_commit": "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c",
        "target": {
            "base_url": BASE_URL,
            "keycloak_url": "http://127.0.0.1:8080",
            "realm": "diga-demo",
            "keycloak_version": "26.4.0",
            "backend_version": "1.3.0",
        },
        "operations": 9,
        "items": 10,
    }


def sample_results() -> list[ResultRecord]:
    entry = "/v1/entries/{entry_id}"
    leak_body = f'{{"id": 17, "note": "Schlafprotokoll canary-A-7f3c {INJECTED}", "owner": "user_a"}}'
    return [
        _result("unauthenticated_access", "GET", "/v1/entries", "pass", severity="high"),
        _result(
            "cross_user_read",
            "GET",
            entry,
            "fail",
            severity="high",
            title="User B reads an object of user A",
            message="Expected 403 or 404, got `200 OK` for `GET /v1/entries/{entry_id}`; A's canary is in the body",
            evidence=[
                {
                    "request": "GET /v1/entries/17 HTTP/1.1\nhost: 127.0.0.1:8000\n"
                    "authorization: Bearer <redacted:token:user2>\naccept: application/json",
                    "response": f"HTTP/1.1 200 OK\ncontent-type: application/json\n\n{leak_body}",
                }
            ],
        ),
        _result(
            "invalid_token",
            "GET",
            entry,
            "fail",
            variant="alg_none",
            severity="critical",
            title="Operation accepts an unsigned token",
            message="Expected 401, got `200 OK` for `GET /v1/entries/{entry_id}` with an alg:none token",
            evidence=[
                {
                    "request": "GET /v1/entries/17 HTTP/1.1\nauthorization: Bearer <redacted:forged-token:alg_none>",
                    "response": 'HTTP/1.1 200 OK\ncontent-type: application/json\n\n{"id": 17}\x00\x1b[0m',
                }
            ],
        ),
        _result("invalid_token", "GET", entry, "pass", variant="expired", severity="critical"),
        _result(
            "cross_user_delete",
            "DELETE",
            entry,
            "accepted",
            severity="medium",
            title="API claims to delete a foreign object",
            message="B got `204 No Content`; A re-read the object unchanged",
            acceptance={
                "fingerprint": fingerprint("cross_user_delete", "DELETE", entry),
                "justification": "Soft-delete returns 204 by design; ticket SEC-41 changes it to 404",
                "owner": "jörg.müller@example.org",
                "expires": "2025-03-31",
            },
        ),
        _result(
            "cross_user_write", "PATCH", entry, "skip", reason="the owner's own request failed: 405 Method Not Allowed"
        ),
        _result(
            "cross_user_write",
            "PUT",
            "/v1/profile/{user_id}",
            "skip",
            reason="the owner's own request failed: 405 Method Not Allowed",
        ),
        _result(
            "account_existence_timing",
            "POST",
            "/auth/password-reset",
            "error",
            reason="timeout after 10 s waiting for POST /auth/password-reset",
        ),
        _result(
            "enumerable_id",
            "POST",
            "/v1/entries",
            "fail",
            severity="low",
            title="Object ids are sequential",
            message="Ids of 12 objects created in order form the sequence 17, 18, 19, …",
        ),
        _result("idp_password_policy", "", "", "pass", severity="medium"),
    ]


@pytest.fixture
def written(tmp_path: Path) -> Path:
    write_findings(tmp_path, sample_run(), sample_results())
    return tmp_path


# --- findings.json ---------------------------------------------------------------------------------


def test_findings_round_trip_keeps_run_and_results(written: Path) -> None:
    assert json.loads((written / "findings.json").read_text(encoding="utf-8"))["schema"] == SCHEMA
    document = load_findings(written / "findings.json")
    verdict = document.run.pop("verdict")
    assert document.run == sample_run()
    assert (verdict["status"], verdict["exit_code"]) == ("failed", 1)
    key = lambda r: (r.check, r.path, r.method, r.variant or "")  # noqa: E731
    assert document.results == sorted(sample_results(), key=key)


def test_findings_json_keeps_its_keys_and_their_order(written: Path) -> None:
    """findings.json is a contract: the record's keys, in this order; note and acceptance only when present."""
    results = json.loads((written / "findings.json").read_text(encoding="utf-8"))["results"]
    keys = [
        "check", "method", "path", "variant", "outcome", "severity", "title", "message", "fingerprint",
        "requirements", "evidence", "reason", "nodeid", "duration_s",
    ]
    for result in results:
        extra = ["acceptance"] if result["outcome"] == "accepted" else []
        assert list(result) == keys + extra, result["check"]
    alg_none = next(r for r in results if r.get("variant") == "alg_none")
    assert alg_none["severity"] == "critical"
    assert alg_none["outcome"] == "fail"
    assert alg_none["evidence"][0]["request"].startswith("GET /v1/entries/17 HTTP/1.1")
    assert isinstance(alg_none["requirements"], list)


def test_a_record_survives_its_findings_json_form() -> None:
    record = ResultRecord(
        check="invalid_token",
        method="GET",
        path="/v1/x",
        variant="alg_none",
        outcome=Outcome.FAIL,
        severity=Severity.CRITICAL,
        title="t",
        message="m",
        fingerprint=fingerprint("invalid_token", "GET", "/v1/x", "alg_none"),
        requirements=("CWE-347",),
        evidence=(Evidence(request="GET /v1/x HTTP/1.1", response="HTTP/1.1 200 OK"),),
        nodeid="suites/x.py::t",
        duration_s=0.12,
        note="a note",
    )
    as_json = json.loads(json.dumps(record.to_dict()))
    assert as_json["note"] == "a note"
    assert ResultRecord.from_dict(as_json) == record


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"outcome": "xfail"}, "outcome 'xfail' is not one of pass, fail, skip, accepted, error"),
        ({"severity": "severe"}, "severity 'severe' is not one of info, low, medium, high, critical"),
        ({"check": ""}, "'check' must be a non-empty string"),
        ({"evidence": ["GET /"]}, "evidence[0] must be a {request, response} object"),
        ({"requirements": "CWE-1"}, "'requirements' must be a list of strings"),
        ({"title": 3}, "'title' must be a string"),
    ],
)
def test_from_dict_refuses_a_record_of_the_wrong_shape(change: dict[str, Any], message: str) -> None:
    raw = {**_raw("cross_user_read", "GET", "/x", "pass"), **change}
    with pytest.raises(FindingsError, match=re.escape(f"results[3]: {message}")):
        ResultRecord.from_dict(raw, where="results[3]")


def test_a_record_refuses_strings_where_its_types_belong() -> None:
    with pytest.raises(TypeError, match="outcome must be an Outcome"):
        ResultRecord(check="x", outcome="pass")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="severity must be a Severity"):
        ResultRecord(check="x", outcome=Outcome.PASS, severity="high")  # type: ignore[arg-type]


def test_findings_output_is_stable_and_utf8(tmp_path: Path) -> None:
    shuffled = sample_results()
    random.Random(4).shuffle(shuffled)
    first = write_findings(tmp_path / "a", sample_run(), sample_results()).read_bytes()
    second = write_findings(tmp_path / "b", sample_run(), shuffled).read_bytes()
    assert first == second
    assert "jörg.müller".encode() in first
    assert first.endswith(b"}\n")
    assert first.startswith(b'{\n  "schema": "digasec/findings/v1"')


def test_load_findings_refuses_another_schema(tmp_path: Path) -> None:
    path = tmp_path / "findings.json"
    path.write_text(json.dumps({"schema": "digasec/findings/v2", "run": {}, "results": []}), encoding="utf-8")
    with pytest.raises(FindingsError, match="digasec/findings/v2"):
        load_findings(path)


def test_load_findings_refuses_broken_json(tmp_path: Path) -> None:
    path = tmp_path / "findings.json"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(FindingsError, match="not valid JSON"):
        load_findings(path)


def test_load_findings_refuses_an_unknown_outcome(tmp_path: Path) -> None:
    path = tmp_path / "findings.json"
    raw = _raw("cross_user_read", "GET", "/x", "xfail")
    path.write_text(json.dumps({"schema": SCHEMA, "run": {}, "results": [raw]}), encoding="utf-8")
    with pytest.raises(FindingsError, match=r"results\[0\]: outcome 'xfail'"):
        load_findings(path)


def test_fingerprint_is_sha256_of_the_documented_string() -> None:
    expected = hashlib.sha256(b"invalid_token|GET|/v1/entries/{entry_id}|alg_none").hexdigest()
    assert fingerprint("invalid_token", "get", "/v1/entries/{entry_id}", "alg_none") == expected
    without = hashlib.sha256(b"invalid_token|GET|/v1/entries/{entry_id}").hexdigest()
    assert fingerprint("invalid_token", "GET", "/v1/entries/{entry_id}") == without


# --- junit.xml -------------------------------------------------------------------------------------


def test_junit_counts_match_the_records(tmp_path: Path) -> None:
    results = sample_results()
    root = ET.parse(write_junit(tmp_path, sample_run(), results)).getroot()
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    verdict_case, cases = cases[0], cases[1:]  # the failed verdict comes first
    assert verdict_case.get("classname") == "digasec.verdict"
    outcomes = [r.outcome.value for r in results]
    assert len(cases) + 1 == len(results) + 1 == int(suite.get("tests", "-1"))
    for element, outcome, attribute, extra in (
        ("failure", "fail", "failures", 1),
        ("skipped", "skip", "skipped", 0),
        ("error", "error", "errors", 0),
    ):
        marked = [case for case in cases if case.find(element) is not None]
        assert len(marked) == outcomes.count(outcome) == int(suite.get(attribute, "-1")) - extra, element


def test_junit_testcase_shape(tmp_path: Path) -> None:
    root = ET.parse(write_junit(tmp_path, sample_run(), sample_results())).getroot()
    cases = {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}
    alg_none = cases[("invalid_token", "GET /v1/entries/{entry_id} [alg_none]")]
    failure = alg_none.find("failure")
    assert failure is not None
    assert failure.get("message") == "Operation accepts an unsigned token"
    assert "with an alg:none token" in (failure.text or "")
    assert "HTTP/1.1 200 OK" in (failure.text or "")
    assert "\\x00" in (failure.text or "")  # NUL cannot be in XML: shown as an escape
    leak = cases[("cross_user_read", "GET /v1/entries/{entry_id}")].find("failure")
    assert leak is not None
    assert INJECTED in (leak.text or "")  # escaped in the file, intact once parsed
    accepted = cases[("cross_user_delete", "DELETE /v1/entries/{entry_id}")]
    assert accepted.find("failure") is None
    assert "SEC-41" in (accepted.findtext("system-out") or "")
    skipped = cases[("cross_user_write", "PATCH /v1/entries/{entry_id}")].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "the owner's own request failed: 405 Method Not Allowed"
    assert ("idp_password_policy", "idp_password_policy") in cases


def test_xml_safe_escapes_only_what_xml_cannot_hold() -> None:
    assert xml_safe("a\tb\nc\x00d\x1be\ud800f ü") == "a\tb\nc\\x00d\\x1be\\xd800f ü"


# --- report.html -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "de"])
def test_html_has_every_section_in_both_languages(written: Path, lang: str) -> None:
    html = write_html(written, sample_run(), sample_results(), lang=lang).read_text(encoding="utf-8")
    sections = load_strings()[lang]["sections"]
    for number, key in enumerate(
        ["verdict", "scope", "method", "coverage", "findings", "accepted", "skipped", "errors", "integrity"], start=1
    ):
        assert f'<section id="{key}">' in html
        assert f"<h2>{number} {sections[key]}</h2>" in html
    assert f'<html lang="{lang}">' in html


def test_html_german_uses_umlauts_and_formal_address(written: Path) -> None:
    html = write_html(written, sample_run(), sample_results(), lang="de").read_text(encoding="utf-8")
    assert "Übersprungene Prüfpunkte" in html
    assert "Bevor Sie sie ausführen" in html
    assert "3 fehlgeschlagene Prüfpunkte mit Schweregrad „niedrig“ oder höher." in html
    assert "NICHT BESTANDEN" in html
    assert " du " not in html.lower()


def test_html_escapes_record_text(written: Path) -> None:
    html = write_html(written, sample_run(), sample_results()).read_text(encoding="utf-8")
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in html


def test_html_is_self_contained(written: Path) -> None:
    html = write_html(written, sample_run(), sample_results()).read_text(encoding="utf-8")
    external = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|@import|url\(""", re.IGNORECASE)
    assert external.findall(html) == []
    assert "<link" not in html
    assert "<img" not in html
    assert re.findall(r'href="([^"]*)"', html) == [
        f"#{key}"
        for key in ("verdict", "scope", "method", "coverage", "findings", "accepted", "skipped", "errors", "integrity")
    ]


def test_html_integrity_is_the_hash_of_findings_json(written: Path) -> None:
    html = write_html(written, sample_run(), sample_results()).read_text(encoding="utf-8")
    digest = hashlib.sha256((written / "findings.json").read_bytes()).hexdigest()
    assert f'<dd class="mono" id="findings-sha256">{digest}</dd>' in html


def test_html_says_when_findings_json_is_missing(tmp_path: Path) -> None:
    html = write_html(tmp_path, sample_run(), sample_results()).read_text(encoding="utf-8")
    assert load_strings()["en"]["integrity_missing"] in html
    assert 'id="findings-sha256"' not in html


def test_html_content(written: Path) -> None:
    html = write_html(written, sample_run(), sample_results()).read_text(encoding="utf-8")
    strings = load_strings()["en"]
    assert '<div class="verdict fail" id="verdict-status" data-status="failed">✗ FAILED</div>' in html
    assert "3 failed test items at or above severity “low”." in html
    assert "1 test item ended in an error (server error, timeout or transport error)" in html
    assert strings["verdict_error_count"].format(count=1) in html
    assert "1 test item was skipped" not in html
    assert "2 test items were skipped and not tested (section 7)." in html
    assert "\x00" not in html  # control characters of a response body are shown as escapes
    assert "17}\\x00\\x1b[0m" in html
    assert strings["not_verified"] in html  # invalid_token row is marked
    assert "DiGAV Anl. 1 DS 16" in html
    assert "Soft-delete returns 204 by design" in html
    assert "jörg.müller@example.org" in html
    assert html.count("the owner&#39;s own request failed: 405 Method Not Allowed") == 1  # grouped by reason
    assert "timeout after 10 s" in html
    for scope_value in ("26.4.0", "diga-demo", "0:02:42", "1.3.0", "profiles/demo-process.yaml"):
        assert scope_value in html
    assert strings["no_operation"] in html  # the idp check has no HTTP operation
    # coverage matrix: one row per operation, symbols and counts in the cells
    assert '<td class="c-fail"><span class="sym">✗</span>1 <span class="sym">✓</span>1</td>' in html


def test_html_orders_findings_by_severity(written: Path) -> None:
    html = write_html(written, sample_run(), sample_results()).read_text(encoding="utf-8")
    titles = ["Operation accepts an unsigned token", "User B reads an object of user A", "Object ids are sequential"]
    positions = [html.index(title, html.index('<section id="findings">')) for title in titles]
    assert positions == sorted(positions)


def test_html_reproduction_command_uses_a_token_variable(written: Path) -> None:
    html = write_html(written, sample_run(), sample_results()).read_text(encoding="utf-8")
    assert "-H &#34;authorization: Bearer $TOKEN_USER2&#34;" in html
    assert "curl http://127.0.0.1:8000/v1/entries/17 \\\n  -H &#34;authorization: Bearer $TOKEN_USER2" in html


def test_html_passes_when_only_accepted_and_low_findings_remain(written: Path) -> None:
    results = [r for r in sample_results() if r.severity in (Severity.LOW, Severity.MEDIUM, Severity.INFO)
               or r.outcome is not Outcome.FAIL]
    results = [r for r in results if r.outcome is not Outcome.ERROR]  # an item in error fails the verdict
    html = write_html(written, sample_run(), results, fail_on=Severity.MEDIUM).read_text(encoding="utf-8")
    assert 'class="verdict pass"' in html
    assert "✓ PASSED" in html


def test_html_of_an_empty_run_warns(tmp_path: Path) -> None:
    html = write_html(tmp_path, {}, [], lang="de").read_text(encoding="utf-8")
    assert 'class="verdict not-tested"' in html
    assert "○ NICHT GEPRÜFT" in html
    assert load_strings()["de"]["verdict_reasons"]["no_items"] in html
    assert load_strings()["de"]["verdict_empty"] in html
    assert load_strings()["de"]["findings_none"] in html


def test_html_prints_each_section_on_a_new_page(written: Path) -> None:
    html = write_html(written, sample_run(), sample_results()).read_text(encoding="utf-8")
    print_css = html[html.index("@media print") :]
    assert "section { margin-top: 0; break-before: page; }" in print_css
    assert "section#verdict { break-before: auto; }" in print_css


def test_html_is_well_formed(written: Path) -> None:
    html = write_html(written, sample_run(), sample_results()).read_text(encoding="utf-8")
    checker = _TagBalance()
    checker.feed(html)
    checker.close()
    assert checker.problems == []
    assert checker.stack == []


class _TagBalance(HTMLParser):
    VOID = frozenset({"meta", "br", "hr", "img", "input", "link"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'} at {self.getpos()}")
            return
        self.stack.pop()


def test_html_refuses_an_unknown_language(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lang must be one of en, de"):
        write_html(tmp_path, sample_run(), sample_results(), lang="fr")


def test_html_strings_have_the_same_keys_in_both_languages() -> None:
    def keys(value: Any, prefix: str = "") -> set[str]:
        if not isinstance(value, dict):
            return {prefix}
        return set().union(*(keys(item, f"{prefix}.{key}") for key, item in value.items()))

    strings = load_strings()
    # finding titles are English where they come from (the suites); only other languages list them
    german = {key: value for key, value in strings["de"].items() if key != "finding_titles"}
    assert keys(strings["en"]) == keys(german)


# --- curl -------------------------------------------------------------------------------------------


def test_curl_command_replaces_credentials_and_quotes_the_body() -> None:
    request = (
        "POST /v1/entries?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nAuthorization: Bearer eyJhbGciOi.real.token\r\n"
        'Content-Type: application/json\r\nContent-Length: 18\r\n\r\n{"note": "it\'s"}'
    )
    command = curl_command(request, BASE_URL)
    assert command is not None
    assert "eyJ" not in command
    assert command.splitlines() == [
        "curl -X POST 'http://127.0.0.1:8000/v1/entries?x=1' \\",
        '  -H "Authorization: Bearer $TOKEN" \\',
        "  -H 'Content-Type: application/json' \\",
        """  --data-raw '{"note": "it'"'"'s"}'""",
    ]


def test_curl_command_names_the_variable_after_the_redaction_marker() -> None:
    forged = curl_command("GET /x HTTP/1.1\nAuthorization: Bearer <redacted:forged-token:alg_none>", BASE_URL)
    assert forged == 'curl http://127.0.0.1:8000/x \\\n  -H "Authorization: Bearer $FORGED_TOKEN_ALG_NONE"'
    basic = curl_command("GET /x HTTP/1.1\nAuthorization: Basic <redacted:token>", BASE_URL)
    assert basic == 'curl http://127.0.0.1:8000/x \\\n  -H "Authorization: $AUTHORIZATION"'


def test_curl_command_without_base_url_or_request_line() -> None:
    assert curl_command("GET /x HTTP/1.1", None) == 'curl "$BASE_URL"/x'
    assert curl_command("not a request", BASE_URL) is None


def test_reports_imports_neither_pytest_nor_the_network_nor_the_harness(tmp_path: Path) -> None:
    script = (
        "import sys, reports, reports.gate\n"
        "reports.write_html(sys.argv[1], {}, [reports.ResultRecord(check='x', outcome=reports.Outcome.PASS)])\n"
        "reports.write_junit(sys.argv[1], {}, [])\n"
        "banned = ('pytest', 'httpx', 'fixtures', 'requests', 'urllib3', '_pytest')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in banned))"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_public_names_are_all_exported() -> None:
    public = {name for name in dir(reports) if not name.startswith("_") and name != "annotations"}
    modules = {"gate", "verdict"}
    assert set(reports.__all__) == public - modules
