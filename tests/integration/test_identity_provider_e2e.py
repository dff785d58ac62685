"""The idp_* checks against real Keycloaks: the flawed demo's lax realm (every planted realm weakness is a fail), the
secure demo's hardened realm (no idp fail; the lockout proved on a real account), and a realm created with no
options on the staging Keycloak (the defaults a DiGA must change). No Keycloak of its own: the session scans and
the staging system are shared."""

from __future__ import annotations

import dataclasses
import secrets
from typing import Any

import pytest
import yaml

from fixtures.analysis import realm_audit as ra
from fixtures.identity import KeycloakAdminIdentity
from fixtures.target.profile import IdpSettings
from tests.integration.conftest import PROJECT, Scan, Staging, staging_profile

pytestmark = pytest.mark.integration
IDP_CHECKS = ("idp_password_policy", "idp_brute_force", "idp_mfa", "idp_token_lifetime", "idp_audit_events",
              "idp_client_hardening", "idp_established")
LOCKOUT = ("idp_brute_force", "POST", "/realms/{realm}/protocol/openid-connect/token", "behaviour")
AUTHORIZE = ("idp_client_hardening", "GET", "/realms/{realm}/protocol/openid-connect/auth", "behaviour")


def realm_rows() -> list[dict[str, Any]]:
    rows = yaml.safe_load((PROJECT / "demo" / "ground_truth.yaml").read_text())
    return [row for row in rows if row.get("kind") == "realm"]


def item(scan: Scan, key: tuple[str, str, str, str]) -> dict[str, Any]:
    found = [r for r in scan.results if (r["check"], r["method"], r["path"], r["variant"]) == key]
    assert len(found) == 1, (key, [r["nodeid"] for r in found])
    return found[0]


@pytest.mark.parametrize("weakness", realm_rows(), ids=lambda row: row["id"])
def test_each_planted_realm_weakness_is_a_fail(demo_scan: Scan, weakness: dict[str, Any]) -> None:
    result = item(demo_scan, (weakness["check"], weakness["method"], weakness["path"], weakness["variant"]))
    assert result["outcome"] == "fail", result
    assert any(not setting["ok"] for setting in result["settings"]), result


def test_the_hardened_realm_gives_no_idp_fail(secure_scan: Scan) -> None:
    results = [r for r in secure_scan.results if r["check"] in IDP_CHECKS]
    assert {r["check"] for r in results} == set(IDP_CHECKS)
    assert not [r for r in results if r["outcome"] in ("fail", "error")], results
    judged = [r for r in results if r["outcome"] == "pass"]
    assert {r["check"] for r in judged} == set(IDP_CHECKS) - {"idp_established"}


def test_the_lockout_is_proved_on_a_real_keycloak(secure_scan: Scan, demo_scan: Scan) -> None:
    """Hardened: the correct password is refused after failureFactor + 1 wrong ones, with a wrong password's
    answer, and works again once the lock is cleared. Lax: it still logs in."""
    locked = item(secure_scan, LOCKOUT)
    assert locked["outcome"] == "pass", locked
    assert [(s["name"], s["value"]) for s in locked["settings"]] == [
        ("correct password after 11 wrong ones", "refused (locked)"),
        ("answer to a locked account", "same as a wrong password")]
    assert "the lock was cleared and the correct password works again" in locked["note"]
    open_door = item(demo_scan, LOCKOUT)
    assert open_door["outcome"] == "fail"
    assert "still logs" in open_door["message"]


def test_pkce_and_the_implicit_flow_are_judged_at_the_authorization_endpoint(secure_scan: Scan,
                                                                             demo_scan: Scan) -> None:
    """The public app client, read from the realm: hardened, Keycloak refuses a code request without code_challenge
    or with `plain`, and response_type=token, with an OAuth error at the redirect URI; lax, it shows its login page
    for each. The backend's confidential login client has no browser flow and is not tried."""
    names = ["client diga-app: code flow without code_challenge", "client diga-app: code_challenge_method plain",
             "client diga-app: implicit flow (response_type=token)"]
    hardened = item(secure_scan, AUTHORIZE)
    assert hardened["outcome"] == "pass", hardened
    assert [(s["name"], s["value"]) for s in hardened["settings"]] == list(zip(names, [
        "refused (invalid_request)", "refused (invalid_request)", "refused (unauthorized_client)"], strict=True))
    lax = item(demo_scan, AUTHORIZE)
    assert lax["outcome"] == "fail", lax
    assert [(s["name"], s["value"]) for s in lax["settings"]] == [(name, "accepted (login page)") for name in names]
    assert any(e["role"] == "attack" and "response_type=token" in e["request"] for e in lax["evidence"]), lax


def test_a_second_factor_is_required_for_the_admin_role_only_in_the_hardened_realm(secure_scan: Scan,
                                                                                  demo_scan: Scan) -> None:
    """idp.mfa_roles [admin] in both demos: the hardened realm's browser flow requires OTP under a
    conditional-user-role admin subflow; the lax realm keeps Keycloak's default flow. The admin role user still logs
    in by password grant (the direct grant flow is Keycloak's default): its role checks ran."""
    mfa = ("idp_mfa", "GET", "/admin/realms/{realm}", "configuration")
    role = {s["name"]: s for s in item(secure_scan, mfa)["settings"]}["second factor for role admin"]
    assert (role["value"], role["ok"]) == ("required", True)
    role = {s["name"]: s for s in item(demo_scan, mfa)["settings"]}["second factor for role admin"]
    assert (role["value"], role["ok"]) == ("not required (OTP Form)", False)
    admin_reads = [r for r in secure_scan.results if r["check"] == "cross_user_read"
                   and r.get("variant", "").startswith("admin-1->") and r["outcome"] == "pass"]
    assert admin_reads, "the admin role user did not log in in the hardened realm"


def test_each_item_says_how_it_was_judged(secure_scan: Scan) -> None:
    for result in secure_scan.results:
        if result["check"] in IDP_CHECKS and result["outcome"] == "pass":
            modes = {setting["mode"] for setting in result["settings"]}
            assert modes == {result["variant"]} or result["check"] == "idp_established", result


def test_a_realm_created_with_no_options_lists_the_defaults_a_diga_must_change(staging: Staging) -> None:
    name = f"digasec-fresh-{secrets.token_hex(3)}"
    profile = staging_profile()
    env = dataclasses.replace(staging.env, realm="master")
    admin = KeycloakAdminIdentity(env, profile, "digasec-fresh").admin
    admin.create_realm({"realm": name, "enabled": True})
    try:
        audit = KeycloakAdminIdentity(dataclasses.replace(staging.env, realm=name), profile, "x").audit_input()
    finally:
        admin.delete_realm(name)
    limits = IdpSettings()
    realm, clients = audit["realm"], audit["clients"]
    settings = [*ra.audit_password_policy(realm, limits), *ra.audit_brute_force(realm, limits),
                *ra.audit_mfa(ra.second_factor(audit["executions"], audit["required_actions"]), limits),
                *ra.audit_token_lifetime(realm, clients, limits, "x"), *ra.audit_events(realm, limits),
                *ra.audit_clients(realm, clients, "staging", "x")]
    failing = {(setting.check, setting.name): setting.requirement for setting in ra.failing(settings)}
    assert set(failing) == {
        ("idp_password_policy", "passwordPolicy length"), ("idp_password_policy", "passwordPolicy notUsername"),
        ("idp_password_policy", "passwordPolicy notEmail"), ("idp_password_policy", "passwordPolicy passwordHistory"),
        ("idp_brute_force", "bruteForceProtected"),
        ("idp_token_lifetime", "offlineSessionMaxLifespanEnabled"),
        ("idp_audit_events", "eventsEnabled (login events stored)"), ("idp_audit_events", "adminEventsEnabled"),
    }, failing
    assert all(requirement.startswith("TR-03161") for requirement in failing.values())


def test_the_report_has_the_identity_provider_table(demo_scan: Scan) -> None:
    report = (demo_scan.out / "report.html").read_text(encoding="utf-8")
    section = report[report.index('id="identity-provider"'):]
    assert "passwordPolicy length" in section
    assert "bruteForceProtected" in section
    assert "TR-03161 O.Pass_1" in section


@pytest.mark.usefixtures("demo_scan", "secure_scan")  # the lane of the selftest follows the fixtures
@pytest.mark.parametrize("scan_name", ["demo_scan", "secure_scan"])
def test_a_weak_password_is_refused_by_the_demos_registration(scan_name: str, request: pytest.FixtureRequest) -> None:
    """The demo backend's registration asks for 12 characters itself, so even the lax realm's registration refuses
    the weak password: a pass in both scans, judged by behaviour (the flaw the lax realm plants is seen by
    configuration only)."""
    scan: Scan = request.getfixturevalue(scan_name)
    result = item(scan, ("idp_password_policy", "POST", "/v1/auth/register", "behaviour"))
    assert result["outcome"] == "pass", result
    assert [setting["value"] for setting in result["settings"]] == ["refused"]


def test_a_weak_password_on_the_demos_password_change_is_judged_by_the_realm(secure_scan: Scan,
                                                                            demo_scan: Scan) -> None:
    """`POST /v1/me/password` hands the new password to Keycloak, so the realm's policy decides: the lax realm's
    length(6) takes the 11-character password (the account of the check's own then logs in with it), the hardened
    realm's length(12) refuses it. Neither touches a test user's password."""
    change = ("idp_password_policy", "POST", "/v1/me/password", "behaviour")
    hardened = item(secure_scan, change)
    assert hardened["outcome"] == "pass", hardened
    assert [s["value"] for s in hardened["settings"]] == ["refused"]
    lax = item(demo_scan, change)
    assert lax["outcome"] == "fail", lax
    assert [s["value"] for s in lax["settings"]] == ["accepted: the account logs in with it"]
    assert "the account was deleted afterwards" in lax["note"]
