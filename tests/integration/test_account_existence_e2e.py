"""The account-existence checks find the demo's planted leaks (content and timing), nothing else, and nothing on
the secure demo; every account flow, the backend's and Keycloak's, is an item that says why it is one."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.integration.conftest import Scan, TimingScans, ground_truth

pytestmark = pytest.mark.integration
JWT = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*")
ACCOUNT_CHECKS = ("account_existence_leak", "account_existence_timing")
BACKEND_FLOWS = {
    ("POST", "/v1/auth/login"): "login",
    ("POST", "/v1/auth/register"): "registration",
    ("POST", "/v1/auth/password-reset"): "password_reset",
}
KEYCLOAK_FLOWS = {
    ("POST", "/realms/{realm}/protocol/openid-connect/token"): "login",
    ("POST", "/realms/{realm}/login-actions/authenticate"): "login",
    ("POST", "/realms/{realm}/login-actions/reset-credentials"): "password_reset",
    ("POST", "/realms/{realm}/login-actions/registration"): "registration",
}
DISTRIBUTION = re.compile(r"median [\d.]+ s \(existing account, n=\d+, IQR [\d.]+ s\) vs [\d.]+ s \(unknown account, "
                          r"n=\d+, IQR [\d.]+ s\)")


PASSWORD_VALUE = re.compile(r'"password"\s*:\s*"(?!<redacted)')


LEAK, TIMING = ACCOUNT_CHECKS


def results(scan: Scan, *checks: str) -> list[dict[str, Any]]:
    return [r for r in scan.results if r["check"] in (checks or ACCOUNT_CHECKS)]


def fails(scan: Scan) -> set[tuple[str, str, str]]:
    return {(r["check"], r["method"], r["path"]) for r in results(scan) if r["outcome"] == "fail"}


# The leak check runs in the shared demo scans; the timing check in `timing_scans`, alone (its own selftest lane).
# Each test names the scans it reads in its signature: the selftest's lanes are chosen by the fixtures a test uses.


@pytest.mark.parametrize("flaw", ground_truth(LEAK), ids=lambda flaw: flaw["id"])
def test_each_planted_leak_is_found(demo_scan: Scan, flaw: dict[str, str]) -> None:
    assert (flaw["check"], flaw["method"], flaw["path"]) in fails(demo_scan), demo_scan.console[-3000:]


@pytest.mark.parametrize("flaw", ground_truth(TIMING), ids=lambda flaw: flaw["id"])
def test_each_planted_timing_leak_is_found(timing_scans: TimingScans, flaw: dict[str, str]) -> None:
    scan = timing_scans.flawed
    assert (flaw["check"], flaw["method"], flaw["path"]) in fails(scan), scan.console[-3000:]


def backend_fails(scan: Scan) -> set[tuple[str, str, str]]:
    return {(check, method, path) for check, method, path in fails(scan) if (method, path) in BACKEND_FLOWS}


def test_nothing_but_the_planted_leaks_is_found_in_the_demo_backend(demo_scan: Scan) -> None:
    assert backend_fails(demo_scan) == {(f["check"], f["method"], f["path"]) for f in ground_truth(LEAK)}
    assert [r for r in results(demo_scan) if r["outcome"] == "error"] == []


def test_nothing_but_the_planted_timing_leaks_is_found_in_the_demo_backend(timing_scans: TimingScans) -> None:
    scan = timing_scans.flawed
    assert backend_fails(scan) == {(f["check"], f["method"], f["path"]) for f in ground_truth(TIMING)}
    assert [r for r in results(scan) if r["outcome"] == "error"] == []


def no_backend_finding(scan: Scan, check: str) -> None:
    """The secure backend answers alike and pads its timing: every backend flow is a pass."""
    bad = [(r["check"], r["method"], r["path"], r["outcome"], r["message"] or r["reason"])
           for r in results(scan, check) if r["outcome"] in ("fail", "error") and (r["method"], r["path"]) in
           BACKEND_FLOWS]
    assert bad == []
    passed = {(r["method"], r["path"]) for r in results(scan, check) if r["outcome"] == "pass"}
    assert set(BACKEND_FLOWS) <= passed, check


def test_no_leak_in_the_secure_demo_backend(secure_scan: Scan) -> None:
    no_backend_finding(secure_scan, LEAK)


def test_no_timing_leak_in_the_secure_demo_backend(timing_scans: TimingScans) -> None:
    no_backend_finding(timing_scans.secure, TIMING)


@pytest.mark.parametrize("variant", ["flawed", "secure"])
def test_keycloak_timing_is_reported_as_it_behaves(variant: str, timing_scans: TimingScans) -> None:
    """Keycloak 26's browser login form stops at a disabled account before it checks the password, while an
    unknown username gets a dummy password check: disabled accounts answer tens of milliseconds faster (a real
    difference in both scans, since both use the same realm; graded info, because only the account the harness
    itself disabled stands out and the profiles do not list disabled accounts in checks.production_states)."""
    scan = timing_scans.flawed if variant == "flawed" else timing_scans.secure
    found = [r for r in results(scan, TIMING) if (r["method"], r["path"]) in KEYCLOAK_FLOWS
             and r["outcome"] in ("fail", "error")]
    for r in found:
        assert (r["check"], r["path"], r["severity"]) == (
            TIMING, "/realms/{realm}/login-actions/authenticate", "info"), r
        assert "disabled account with a wrong password vs unknown account: unknown account answers measurably " \
               "slower" in r["message"]
        assert "Keycloak: only disabled accounts stand out" in r["message"]
        assert "Graded info: only the account state the harness itself created differs" in r["message"]


@pytest.mark.usefixtures("demo_scan", "secure_scan")
@pytest.mark.parametrize("scan_name", ["demo_scan", "secure_scan"])
def test_keycloak_answers_alike(scan_name: str, request: pytest.FixtureRequest) -> None:
    """Keycloak's token endpoint and login form answer alike for every account; the demo realm offers neither
    registration nor reset."""
    scan: Scan = request.getfixturevalue(scan_name)
    leak = {r["path"]: r["outcome"] for r in results(scan, LEAK) if (r["method"], r["path"]) in KEYCLOAK_FLOWS}
    assert leak["/realms/{realm}/protocol/openid-connect/token"] == "pass"
    assert leak["/realms/{realm}/login-actions/authenticate"] == "pass"


def every_flow_is_an_item(scan: Scan, check: str) -> None:
    items = {(r["method"], r["path"]): r["variant"] for r in results(scan, check)}
    assert items == {**BACKEND_FLOWS, **KEYCLOAK_FLOWS}, check


def test_every_account_flow_is_an_item_of_the_leak_check(demo_scan: Scan, secure_scan: Scan) -> None:
    for scan in (demo_scan, secure_scan):
        every_flow_is_an_item(scan, LEAK)


def test_every_account_flow_is_an_item_of_the_timing_check(timing_scans: TimingScans) -> None:
    for scan in (timing_scans.flawed, timing_scans.secure):
        every_flow_is_an_item(scan, TIMING)


def each_item_says_why(scan: Scan, check: str) -> None:
    for r in results(scan, check):
        if r["outcome"] == "skip":
            assert len(r["reason"]) > 40, r
            continue
        assert r["note"].startswith(f"treated as a {r['variant'].replace('_', ' ')} flow: "), r
        if (r["method"], r["path"]) in BACKEND_FLOWS:
            assert "discovered: path" in r["note"]
            assert "account fields: body field" in r["note"]
        else:
            assert "Keycloak's" in r["note"]
            assert "bruteForceProtected" in r["note"]


def test_each_leak_item_says_why_its_operation_is_an_account_flow(demo_scan: Scan) -> None:
    each_item_says_why(demo_scan, LEAK)


def test_each_timing_item_says_why_its_operation_is_an_account_flow(timing_scans: TimingScans) -> None:
    each_item_says_why(timing_scans.flawed, TIMING)


def test_keycloak_forms_the_realm_does_not_offer_are_skipped_with_the_setting(demo_scan: Scan) -> None:
    skipped = {r["path"]: r["reason"] for r in results(demo_scan) if r["outcome"] == "skip"}
    assert "registrationAllowed: false" in skipped["/realms/{realm}/login-actions/registration"]
    assert "resetPasswordAllowed: false" in skipped["/realms/{realm}/login-actions/reset-credentials"]


def test_leak_messages_show_what_differs(demo_scan: Scan) -> None:
    by_path = {r["path"]: r for r in results(demo_scan, "account_existence_leak") if r["outcome"] == "fail"}
    login = by_path["/v1/auth/login"]["message"]
    assert "existing account with a wrong password vs unknown account: status 401 vs 404" in login
    assert "wrong password" in login
    assert "no such user" in login
    assert "disabled account with a wrong password vs unknown account" in login
    register = by_path["/v1/auth/register"]["message"]
    assert "status 409 vs 202" in register
    assert "status 202 vs 404" in by_path["/v1/auth/password-reset"]["message"]


def test_the_timing_finding_gives_both_distributions(timing_scans: TimingScans) -> None:
    [timing] = [r for r in results(timing_scans.flawed, TIMING)
                if r["outcome"] == "fail" and not r["path"].startswith("/realms/")]
    assert timing["path"] == "/v1/auth/password-reset"
    assert "existing account answers measurably slower" in timing["message"]
    assert DISTRIBUTION.search(timing["message"]), timing["message"]
    assert "Mann-Whitney p=" in timing["message"]
    assert "Cliff's delta" in timing["message"]


def evidence_shows_both_cases(scan: Scan, check: str) -> None:
    for r in results(scan, check):
        if r["outcome"] != "fail":
            continue
        assert len(r["evidence"]) == 3, r
        requests = "\n".join(exchange["request"] for exchange in r["evidence"])
        responses = "\n".join(exchange["response"] for exchange in r["evidence"])
        assert requests.count("POST ") == 3
        assert not JWT.search(requests + responses)  # Keycloak's client_data is base64 JSON, not a token
        assert not PASSWORD_VALUE.search(requests), requests


def test_leak_evidence_shows_both_cases_and_no_secret(demo_scan: Scan) -> None:
    evidence_shows_both_cases(demo_scan, LEAK)


def test_timing_evidence_shows_both_cases_and_no_secret(timing_scans: TimingScans) -> None:
    evidence_shows_both_cases(timing_scans.flawed, TIMING)


def accounts_are_gone(scan: Scan, check: str) -> None:
    assert scan.findings["run"]["cleanup_problems"] == []
    registered = [r for r in results(scan, check) if r["path"] == "/v1/auth/register" and r["outcome"] != "skip"]
    assert registered
    assert all("accounts registered by the check were deleted again" in r["note"] for r in registered)


def test_accounts_the_leak_check_created_are_gone(demo_scan: Scan, secure_scan: Scan) -> None:
    for scan in (demo_scan, secure_scan):
        accounts_are_gone(scan, LEAK)


def test_accounts_the_timing_check_created_are_gone(timing_scans: TimingScans) -> None:
    for scan in (timing_scans.flawed, timing_scans.secure):
        accounts_are_gone(scan, TIMING)


def test_parallel_run_finds_the_same_leaks(demo_scan: Scan, parallel_scan: Scan) -> None:
    assert parallel_scan.outcomes("account_existence_leak") == demo_scan.outcomes("account_existence_leak")
