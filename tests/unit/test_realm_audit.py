"""The realm audit (fixtures/analysis/realm_audit.py) on realm representations: what passes, what fails, and why."""

from __future__ import annotations

from typing import Any

import pytest

from fixtures.analysis import realm_audit as ra
from fixtures.target.launchers.keycloak import overlaid_realm
from fixtures.target.profile import IdpSettings

LIMITS = IdpSettings()
# what Keycloak 26 answers for a realm created with nothing but its name (the admin API's GET, abridged)
DEFAULT_REALM: dict[str, Any] = {
    "realm": "fresh", "sslRequired": "external", "bruteForceProtected": False, "permanentLockout": False,
    "failureFactor": 30, "waitIncrementSeconds": 60, "accessTokenLifespan": 300, "ssoSessionIdleTimeout": 1800,
    "ssoSessionMaxLifespan": 36000, "clientSessionIdleTimeout": 0, "offlineSessionIdleTimeout": 2592000,
    "offlineSessionMaxLifespanEnabled": False, "eventsEnabled": False, "adminEventsEnabled": False,
}
HARDENED: dict[str, Any] = {
    **DEFAULT_REALM, "passwordPolicy": "length(12) and notUsername and notEmail and passwordHistory(3)",
    "bruteForceProtected": True, "failureFactor": 10, "offlineSessionMaxLifespanEnabled": True,
    "offlineSessionMaxLifespan": 5184000, "eventsEnabled": True, "eventsExpiration": 7776000,
    "adminEventsEnabled": True,
}
# Keycloak's default browser flow: forms (ALTERNATIVE) > conditional OTP (CONDITIONAL) > user configured + OTP form
BROWSER_FLOW: list[dict[str, Any]] = [
    {"displayName": "Cookie", "providerId": "auth-cookie", "requirement": "ALTERNATIVE", "level": 0},
    {"displayName": "forms", "requirement": "ALTERNATIVE", "level": 0, "authenticationFlow": True},
    {"displayName": "Username Password Form", "providerId": "auth-username-password-form", "requirement": "REQUIRED",
     "level": 1},
    {"displayName": "Browser - Conditional OTP", "requirement": "CONDITIONAL", "level": 1, "authenticationFlow": True},
    {"displayName": "Condition - user configured", "providerId": "conditional-user-configured",
     "requirement": "REQUIRED", "level": 2},
    {"displayName": "OTP Form", "providerId": "auth-otp-form", "requirement": "REQUIRED", "level": 2},
]
TOTP_ACTION = [{"alias": "CONFIGURE_TOTP", "enabled": True, "defaultAction": False}]


def names(settings: list[ra.Setting]) -> set[str]:
    return {setting.name for setting in ra.failing(settings)}


def test_a_default_realm_fails_what_a_diga_must_change() -> None:
    assert names(ra.audit_password_policy(DEFAULT_REALM, LIMITS)) == {
        "passwordPolicy length", "passwordPolicy notUsername", "passwordPolicy notEmail",
        "passwordPolicy passwordHistory"}
    assert names(ra.audit_brute_force(DEFAULT_REALM, LIMITS)) == {"bruteForceProtected"}
    assert names(ra.audit_token_lifetime(DEFAULT_REALM, [], LIMITS, "digasec-x")) == {
        "offlineSessionMaxLifespanEnabled"}
    assert names(ra.audit_events(DEFAULT_REALM, LIMITS)) == {"eventsEnabled (login events stored)",
                                                             "adminEventsEnabled"}


def test_a_hardened_realm_passes() -> None:
    for settings in (ra.audit_password_policy(HARDENED, LIMITS), ra.audit_brute_force(HARDENED, LIMITS),
                     ra.audit_token_lifetime(HARDENED, [], LIMITS, "x"), ra.audit_events(HARDENED, LIMITS),
                     ra.audit_clients(HARDENED, [], "staging", "x")):
        assert not ra.failing(settings), settings


def test_password_policy_parsing_and_limits() -> None:
    assert ra.password_policy("length(12) and notUsername(undefined) and passwordHistory(3)") == {
        "length": "12", "notUsername": "undefined", "passwordHistory": "3"}
    weak = ra.audit_password_policy({"passwordPolicy": "length(8) and notUsername and notEmail and "
                                                       "passwordHistory(1)"}, LIMITS)
    assert names(weak) == {"passwordPolicy length", "passwordPolicy passwordHistory"}
    assert "passwordPolicy passwordBlacklist" in names(
        ra.audit_password_policy(HARDENED, IdpSettings(password_blocklist=True)))


@pytest.mark.parametrize(("change", "failing_names"), [
    ({"failureFactor": 30}, {"failureFactor"}),
    ({"waitIncrementSeconds": 10}, {"waitIncrementSeconds"}),
    ({"permanentLockout": True, "waitIncrementSeconds": 1}, set()),
])
def test_brute_force_thresholds(change: dict[str, Any], failing_names: set[str]) -> None:
    assert names(ra.audit_brute_force({**HARDENED, **change}, LIMITS)) == failing_names


def test_lockout_threshold_is_the_realms_or_the_limit() -> None:
    assert ra.lockout_threshold({"failureFactor": 4}, LIMITS) == 4
    assert ra.lockout_threshold({}, LIMITS) == LIMITS.max_login_failures


def test_the_default_browser_flow_offers_otp_but_requires_it_of_nobody() -> None:
    factor = ra.second_factor(BROWSER_FLOW, TOTP_ACTION)
    assert factor.offered
    assert not factor.everyone
    assert not factor.roles
    settings = ra.audit_mfa(factor, IdpSettings(mfa_roles=["therapist"]))
    assert names(settings) == {"second factor for role therapist"}
    assert not ra.failing(ra.audit_mfa(factor, LIMITS))


def test_otp_required_by_role_condition_or_for_everyone() -> None:
    by_role = [*BROWSER_FLOW[:4], {"providerId": "conditional-user-role", "requirement": "REQUIRED", "level": 2,
                                   "config": {"condUserRole": "therapist", "negate": "false"}}, BROWSER_FLOW[5]]
    assert ra.second_factor(by_role, TOTP_ACTION).roles == {"therapist"}
    everyone = [*BROWSER_FLOW[:3], {"providerId": "auth-otp-form", "requirement": "REQUIRED", "level": 1}]
    assert ra.second_factor(everyone, []).everyone
    setup_for_all = [{**TOTP_ACTION[0], "defaultAction": True}]
    assert ra.second_factor(BROWSER_FLOW, setup_for_all).everyone


def test_a_disabled_otp_step_offers_nothing() -> None:
    disabled = [*BROWSER_FLOW[:3], {**BROWSER_FLOW[3], "requirement": "DISABLED"}, *BROWSER_FLOW[4:]]
    assert not ra.second_factor(disabled, []).offered
    assert names(ra.audit_mfa(ra.second_factor(disabled, []), LIMITS)) == {"second factor offered"}


def test_real_token_lifetime() -> None:
    seen = ra.token_lifetime_seen({"iat": 1000, "exp": 1000 + 86400}, LIMITS, "user1's access token")
    assert seen is not None
    assert not seen.ok
    assert seen.mode == ra.BEHAVIOUR
    assert ra.token_lifetime_seen({"iat": 1000, "exp": 1300}, LIMITS, "t").ok  # type: ignore[union-attr]
    assert ra.token_lifetime_seen({"exp": 1300}, LIMITS, "t") is None


LAX_APP = {"clientId": "app", "publicClient": True, "standardFlowEnabled": True, "implicitFlowEnabled": True,
           "directAccessGrantsEnabled": True, "redirectUris": ["https://app.example/*"], "attributes": {}}
HARD_APP = {"clientId": "app", "publicClient": True, "standardFlowEnabled": True, "implicitFlowEnabled": False,
            "directAccessGrantsEnabled": False, "redirectUris": ["https://app.example/callback"],
            "attributes": {"pkce.code.challenge.method": "S256"}}


def test_client_rules() -> None:
    lax = names(ra.audit_clients(HARDENED, [LAX_APP], "staging", "digasec-x"))
    assert lax == {"client app pkce.code.challenge.method", "client app implicitFlowEnabled",
                   "client app directAccessGrantsEnabled (public client)", "client app redirectUris"}
    assert not names(ra.audit_clients(HARDENED, [HARD_APP], "staging", "digasec-x"))
    unused = {"clientId": "old", "publicClient": False, "standardFlowEnabled": False}
    assert names(ra.audit_clients(HARDENED, [unused], "staging", "x")) == {
        "client old fullScopeAllowed (confidential client without any flow)"}


def test_harness_and_builtin_clients_are_not_judged() -> None:
    ours = {**LAX_APP, "clientId": "digasec-x-short"}
    builtin = {**LAX_APP, "clientId": "admin-cli"}
    assert not names(ra.audit_clients(HARDENED, [ours, builtin], "staging", "digasec-x"))


def test_ssl_required_none_only_in_local_environments() -> None:
    realm = {**HARDENED, "sslRequired": "none"}
    assert names(ra.audit_clients(realm, [], "staging", "x")) == {"sslRequired"}
    assert not names(ra.audit_clients(realm, [], "ci", "x"))


def test_events_types_and_expiration() -> None:
    missing = {**HARDENED, "enabledEventTypes": ["LOGIN"]}
    assert names(ra.audit_events(missing, LIMITS)) == {"enabledEventTypes"}
    assert names(ra.audit_events({**HARDENED, "eventsExpiration": None}, LIMITS)) == {"eventsExpiration"}


def test_overlay_merges_clients_by_id_and_adds_new_ones() -> None:
    realm = {"realm": "r", "bruteForceProtected": True,
             "clients": [{"clientId": "app", "publicClient": True, "attributes": {"a": "1", "b": "2"}}]}
    merged = overlaid_realm(realm, {"bruteForceProtected": False, "clients": [
        {"clientId": "app", "attributes": {"b": "3"}}, {"clientId": "new", "publicClient": False}]})
    assert merged["bruteForceProtected"] is False
    assert merged["clients"][0] == {"clientId": "app", "publicClient": True, "attributes": {"a": "1", "b": "3"}}
    assert merged["clients"][1] == {"clientId": "new", "publicClient": False}
    assert realm["clients"][0]["attributes"] == {"a": "1", "b": "2"}  # the file's representation is not changed


def test_otp_in_the_flow_without_its_setup_action_is_not_offered() -> None:
    factor = ra.second_factor(BROWSER_FLOW, [{**TOTP_ACTION[0], "enabled": False}])
    assert not factor.offered
    assert ra.second_factor(BROWSER_FLOW, [{"alias": "webauthn-register", "enabled": True}]).offered is False


def test_settings_travel_in_the_result_record_and_fill_the_report_table() -> None:
    from reports import Outcome, ResultRecord
    from reports._identity import identity_settings

    rows = tuple(setting.to_dict() for setting in ra.audit_brute_force(HARDENED, LIMITS))
    record = ResultRecord(check="idp_brute_force", method="GET", path="/admin/realms/{realm}",
                          variant=ra.CONFIGURATION, outcome=Outcome.PASS, settings=rows)
    again = ResultRecord.from_dict(record.to_dict())
    assert again.settings == rows
    assert "settings" not in ResultRecord(check="x", method="GET", path="/", variant=None,
                                          outcome=Outcome.PASS).to_dict()
    failing = ra.audit_brute_force(DEFAULT_REALM, LIMITS)[0].to_dict()
    other = ResultRecord(check="idp_brute_force", method="GET", path="/p", variant=None, outcome=Outcome.FAIL,
                         settings=(failing,))
    table = identity_settings([again, other])
    assert table[0]["name"] == "bruteForceProtected"
    assert table[0]["ok"] is False
    assert table[0]["outcome"] == "fail"
    assert len(table) == 1 + len(rows)
