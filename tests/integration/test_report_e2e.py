"""The evidence report: self-contained (no request beyond the file when Chromium renders it), all sections,
a PDF, SARIF, and no secret of the run anywhere in the output directory or the console."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from reports import load_findings, pdf_page_count, write_findings, write_html
from reports._messages import catalogue
from reports._pdf import QUIET_FLAGS, find_browser
from tests.integration.conftest import PROJECT, Scan, TimingScans

pytestmark = pytest.mark.integration
ARTIFACTS = PROJECT / "reports" / "out" / "test-artifacts"
GERMAN_SECTIONS = ("Ergebnis", "Prüfgegenstand", "Methode", "Abdeckung", "Befunde", "Akzeptierte Risiken",
                   "Übersprungene Prüfpunkte", "Fehler", "Integrität")


def render(report: Path, screenshot: Path, net_log: Path) -> None:
    with tempfile.TemporaryDirectory() as profile_dir:
        subprocess.run(
            [find_browser(), *QUIET_FLAGS, f"--user-data-dir={profile_dir}", f"--log-net-log={net_log}",
             "--net-log-capture-mode=Everything", f"--screenshot={screenshot}", "--window-size=1280,2400",
             "--hide-scrollbars", report.as_uri()],
            capture_output=True, text=True, timeout=120, check=True,
        )


def net_events(net_log: Path) -> list[tuple[str, dict[str, object]]]:
    text = net_log.read_text(errors="replace").rstrip().rstrip(",")
    if not text.endswith("}"):
        text += "]}"  # Chromium may end the log without closing the event list
    data = json.loads(text)
    names = {number: name for name, number in data["constants"]["logEventTypes"].items()}
    return [(names.get(event["type"], "?"), event.get("params", {})) for event in data.get("events", [])]


def page_requests(events: list[tuple[str, dict[str, object]]]) -> set[str]:
    """Requests the page made. Chromium's own background requests carry no origin ('not an origin')."""
    return {str(params["url"]) for name, params in events
            if name == "URL_REQUEST_START_JOB" and "url" in params and params.get("initiator") != "not an origin"}


def connections(events: list[tuple[str, dict[str, object]]]) -> set[str]:
    """Addresses Chromium opened a socket to: none may be outside loopback."""
    return {str(params.get("address")) for name, params in events if name == "TCP_CONNECT_ATTEMPT"}


def test_report_renders_offline_with_every_section(demo_scan: Scan, tmp_path: Path) -> None:
    report = demo_scan.out / "report.html"
    html = report.read_text()
    for heading in GERMAN_SECTIONS:
        assert heading in html, heading
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot, net_log = ARTIFACTS / "report-demo.png", tmp_path / "net-log.json"
    render(report, screenshot, net_log)
    assert screenshot.stat().st_size > 10_000
    events = net_events(net_log)
    assert events  # the net log was written
    assert {url for url in page_requests(events) if not url.startswith(("file://", "data:"))} == set()
    assert {address for address in connections(events) if not address.startswith("127.")} == set()
    print(f"screenshot: {screenshot}")


def test_scope_names_the_token_issuer_and_keycloak(demo_scan: Scan) -> None:
    """The demo's tokens come from its Keycloak realm: the scope says so, and shows the Keycloak rows."""
    html = (demo_scan.out / "report.html").read_text()
    scope = html[html.index('<section id="scope">') : html.index("</section>", html.index('<section id="scope">'))]
    rows = dict(re.findall(r'<th scope="row">(.*?)</th><td[^>]*>(.*?)</td>', scope))
    target = demo_scan.findings["run"]["target"]
    issuer = rows["Aussteller der Tokens der Testbenutzer"]
    assert target["realm"] in issuer, issuer
    assert target["keycloak_url"] in issuer, issuer
    assert rows["Keycloak-Version"] == target["keycloak_version"] != ""


def test_findings_json_records_keep_their_keys(demo_scan: Scan) -> None:
    keys = ["check", "method", "path", "variant", "outcome", "severity", "title", "message", "fingerprint",
            "requirements", "evidence", "reason", "nodeid", "duration_s"]
    for result in demo_scan.results:
        assert list(result)[: len(keys)] == keys, result
        optional = {"note", "acceptance", "applies", "access", "proof", "settings", "export"}
        assert set(result) - set(keys) <= optional, result


def test_the_offline_check_can_fail(tmp_path: Path) -> None:
    """Control: a page that loads an outside image is caught (the name resolves nowhere: no packet leaves)."""
    page = tmp_path / "leaky.html"
    page.write_text('<html><body><img src="http://reports.example.invalid/logo.png"></body></html>')
    render(page, tmp_path / "leaky.png", tmp_path / "net-log.json")
    assert "http://reports.example.invalid/logo.png" in page_requests(net_events(tmp_path / "net-log.json"))


def test_pdf_has_pages(demo_scan: Scan) -> None:
    pdf = demo_scan.out / "report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    pages = pdf_page_count(pdf)
    assert pages >= 2
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(pdf, ARTIFACTS / "report-demo.pdf")
    print(f"pdf pages: {pages}")


def test_sarif_lists_the_findings(demo_scan: Scan) -> None:
    sarif = json.loads((demo_scan.out / "results.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    fails = [r for r in demo_scan.results if r["outcome"] == "fail"]
    assert len(sarif["runs"][0]["results"]) == len(fails)


def test_integrity_hash_matches_findings(demo_scan: Scan) -> None:
    import hashlib

    digest = hashlib.sha256((demo_scan.out / "findings.json").read_bytes()).hexdigest()
    assert digest in (demo_scan.out / "report.html").read_text()


def test_no_secret_of_the_run_reaches_outputs_or_console(demo_scan: Scan) -> None:
    secrets = demo_scan.secrets()
    labels = {entry["label"].split(":")[0] for entry in secrets}
    assert {"keycloak-admin-password", "password", "token"} <= labels, labels
    texts = {"console": demo_scan.console}
    for path in demo_scan.out.rglob("*"):
        if path.is_file():
            texts[str(path)] = path.read_bytes().decode("utf-8", errors="replace")
    for entry in secrets:
        for where, text in texts.items():
            assert entry["value"] not in text, f"{entry['label']} found in {where}"


# -- the German report of the demo scan: messages, reasons and notes translated ----------------------------------
def _fixed_words(template: str) -> list[str]:
    """The English template's literal runs of three or more words (what must not be left in a German report)."""
    runs = (run.strip(" ;:,.()`'\"") for run in re.split(r"\{[a-z_0-9]+!?\}", template))
    return [run for run in runs if len(run.split()) >= 3]


def _assert_german_report(scan: Scan, out: Path) -> str:
    """The German report of `scan`'s findings holds no English frame of the catalogue; findings.json stays English.
    Returns the report's text."""
    findings = load_findings(scan.out / "findings.json")
    out.mkdir(parents=True, exist_ok=True)
    write_findings(out, findings.run, findings.results)
    shown = html.unescape(write_html(out, findings.run, findings.results, lang="de").read_text())
    frames = [template for template in catalogue() if not template.fragment]  # analysis texts inside may stay
    english = [words for template in frames for words in _fixed_words(template.english) if words in shown]
    assert not english, english
    assert load_findings(out / "findings.json").results == findings.results  # findings.json stays English
    return shown


def test_the_german_report_of_the_demo_holds_no_english_message_of_the_catalogue(
    demo_scan: Scan, tmp_path: Path
) -> None:
    shown = _assert_german_report(demo_scan, tmp_path)
    assert "Expected 401, got" not in shown
    assert "baseline failed" not in shown


def test_the_german_report_of_the_timing_check_holds_no_english_message_of_the_catalogue(
    timing_scans: TimingScans, tmp_path: Path
) -> None:
    """The shared demo scan leaves the timing check out (it runs alone in `timing_scans`): its verdicts, notes and
    the rounds it used are checked here, on the flawed demo's planted leak and on the secure demo."""
    flawed = _assert_german_report(timing_scans.flawed, tmp_path / "flawed")
    _assert_german_report(timing_scans.secure, tmp_path / "secure")
    assert "braucht messbar unterschiedlich lange" in flawed  # the planted timing leak, in German
    assert "takes measurably different time" not in flawed
