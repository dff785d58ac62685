"""The realm audit (fixtures/analysis/realm_audit.py) on realm representations: what passes, what fails, and why."""

from __future__ import annotations

import re
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


# -- the authorization endpoint's answers (idp_client_hardening, behaviour), as Keycloak 26.7.3 gives them ---------
CALLBACK = "http://127.0.0.1/callback"
LOGIN_PAGE_HTML = '<html><head><title>Sign in to DiGA</title></head><body><form id="kc-form-login" method="post" ' \
                  'action="/realms/diga/login-actions/authenticate?session_code=x"></form></body></html>'
ERROR_PAGE_HTML = '<html><head><title>Sign in to DiGA</title></head><body><div id="kc-error-message">' \
                  '<p class="instruction">Invalid parameter: redirect_uri</p></div></body></html>'


def answer(status: int, location: str = "", body: str = "") -> ra.AuthorizationAnswer:
    return ra.read_authorization_answer(status, location, body, CALLBACK)


def test_the_login_page_means_the_request_was_accepted() -> None:
    seen = answer(200, body=LOGIN_PAGE_HTML)
    assert (seen.kind, seen.accepted, seen.judged, seen.shown()) == (ra.LOGIN_PAGE, True, True, "accepted (login page)")


def test_an_oauth_error_at_the_redirect_uri_is_a_refusal_in_query_or_fragment() -> None:
    pkce = answer(302, f"{CALLBACK}?error=invalid_request&error_description=Missing+parameter%3A+code_challenge_method"
                       "&state=s1&iss=http%3A%2F%2F127.0.0.1%3A8080%2Frealms%2Fdiga")
    assert (pkce.kind, pkce.error, pkce.detail) == (ra.REFUSED, "invalid_request",
                                                    "Missing parameter: code_challenge_method")
    implicit = answer(302, f"{CALLBACK}#error=unauthorized_client&error_description=Implicit+flow+is+disabled&state=s1")
    assert (implicit.kind, implicit.shown(), implicit.accepted) == (ra.REFUSED, "refused (unauthorized_client)", False)


def test_a_code_or_token_sent_back_is_an_acceptance() -> None:
    assert answer(302, f"{CALLBACK}?code=abc&state=s1").kind == ra.ISSUED
    assert answer(302, f"{CALLBACK}#access_token=abc&state=s1").accepted


def test_answers_that_say_nothing_about_the_flows_are_not_judged() -> None:
    page = answer(400, body=ERROR_PAGE_HTML)
    assert (page.kind, page.judged, page.detail) == (ra.ERROR_PAGE, False, "HTTP 400 Invalid parameter: redirect_uri")
    elsewhere = answer(302, "https://broker.example/login?x=1")
    assert (elsewhere.kind, elsewhere.detail) == (ra.UNCLEAR, "a redirect to https://broker.example/login")
    assert not answer(200, body="<html>maintenance</html>").judged
    assert not answer(503).judged


def answers(**kinds: ra.AuthorizationAnswer) -> dict[str, ra.AuthorizationAnswer]:
    keys = {"s256": ra.S256, "none": ra.NO_CHALLENGE, "plain": ra.PLAIN, "token": ra.IMPLICIT}
    return {keys[name]: value for name, value in kinds.items()}


LOGIN = ra.AuthorizationAnswer(ra.LOGIN_PAGE)
PKCE_ERROR = ra.AuthorizationAnswer(ra.REFUSED, "invalid_request", "Missing parameter: code_challenge_method")
NOT_ALLOWED = ra.AuthorizationAnswer(ra.REFUSED, "unauthorized_client", "Implicit flow is disabled for the client.")
ERROR_PAGE = ra.AuthorizationAnswer(ra.ERROR_PAGE, detail="HTTP 400 Invalid parameter: redirect_uri")


def test_a_client_without_pkce_and_with_the_implicit_flow_fails_each() -> None:
    settings = ra.authorization_settings("app", answers(s256=LOGIN, none=LOGIN, plain=LOGIN, token=LOGIN))
    assert [(s.name, s.value, s.ok, s.mode) for s in settings] == [
        ("client app: code flow without code_challenge", "accepted (login page)", False, ra.BEHAVIOUR),
        ("client app: code_challenge_method plain", "accepted (login page)", False, ra.BEHAVIOUR),
        ("client app: implicit flow (response_type=token)", "accepted (login page)", False, ra.BEHAVIOUR)]


def test_a_client_that_enforces_s256_and_refuses_the_implicit_flow_passes() -> None:
    settings = ra.authorization_settings("app", answers(s256=LOGIN, none=PKCE_ERROR, plain=PKCE_ERROR,
                                                        token=NOT_ALLOWED))
    assert [(s.value, s.ok) for s in settings] == [("refused (invalid_request)", True)] * 2 + [
        ("refused (unauthorized_client)", True)]


def test_a_refusal_counts_only_where_the_baseline_shows_the_request_was_sound() -> None:
    # the redirect URI is not the client's: every answer is Keycloak's error page, nothing is judged
    assert ra.authorization_settings("app", answers(s256=ERROR_PAGE, none=ERROR_PAGE, token=ERROR_PAGE)) == []
    # a client configured for `plain`: S256 is refused, so a refusal without code_challenge proves nothing, while
    # plain accepted is a finding; the implicit flow's refusal still counts (Keycloak answered with an OAuth error)
    mismatch = ra.AuthorizationAnswer(ra.REFUSED, "invalid_request", "code challenge method is not matching")
    settings = ra.authorization_settings("app", answers(s256=mismatch, none=PKCE_ERROR, plain=LOGIN, token=NOT_ALLOWED))
    assert [(s.name, s.ok) for s in settings] == [("client app: code_challenge_method plain", False),
                                                  ("client app: implicit flow (response_type=token)", True)]


def test_a_confidential_client_is_tried_for_the_implicit_flow_only() -> None:
    settings = ra.authorization_settings("portal", answers(s256=LOGIN, token=LOGIN))
    assert [(s.name, s.ok) for s in settings] == [("client portal: implicit flow (response_type=token)", False)]


def test_authorization_targets_are_the_realms_browser_clients() -> None:
    service = {"clientId": "svc", "publicClient": False, "standardFlowEnabled": False, "serviceAccountsEnabled": True}
    api = {"clientId": "api", "bearerOnly": True}
    portal = {"clientId": "portal", "publicClient": False, "redirectUris": ["https://portal.example/cb"]}
    bare = {"clientId": "bare", "publicClient": True, "redirectUris": []}
    clients = [LAX_APP, HARD_APP, service, api, portal, bare, {**LAX_APP, "clientId": "digasec-x-main"},
               {**LAX_APP, "clientId": "account-console"}, {**LAX_APP, "clientId": "off", "enabled": False}]
    targets = ra.authorization_targets(clients, "digasec-x", lambda c: (c.get("redirectUris") or [None])[0])
    assert [(t.client_id, t.redirect_uri, t.public, t.why) for t in targets] == [
        ("app", LAX_APP["redirectUris"][0], True, ""), ("app", "https://app.example/callback", True, ""),
        ("portal", "https://portal.example/cb", False, ""), ("bare", None, True, "no registered redirect URI")]


# English words the judged settings' names, values and limits use; none may be left in the German table (Keycloak's
# own names and values, `external`, `all`, `none`, `plain`, stay as they are)
ENGLISH = frozenset({
    "yes", "no", "on", "off", "required", "refused", "accepted", "not", "set", "never", "without", "or", "only",
    "locked", "wrong", "password", "same", "differs", "login", "page", "issued", "exact", "wildcard", "remove",
    "unused", "established", "identity", "provider", "second", "factor", "role", "correct", "answer", "account",
    "registration", "change", "character", "access", "token", "code", "flow", "implicit", "events", "stored",
    "public", "confidential", "any", "refresh", "local", "environment", "allowed", "opaque", "credential",
    "lockout", "for", "everyone", "step", "defaults", "after", "ones", "lifespan",
})


def every_kind_of_setting() -> list[ra.Setting]:
    """Settings of every audit, on the lax and the hardened realm, and of every behaviour probe."""
    lax_realm = {**DEFAULT_REALM, "passwordPolicy": "length(6)", "sslRequired": "none", "eventsEnabled": True,
                 "enabledEventTypes": ["LOGIN"], "bruteForceProtected": True, "waitIncrementSeconds": 5}
    limits = IdpSettings(mfa_roles=["admin"], password_blocklist=True)
    settings = []
    variants = ((lax_realm, ra.second_factor([], [])), (HARDENED, ra.second_factor(BROWSER_FLOW, TOTP_ACTION)),
                ({**HARDENED, "permanentLockout": True}, ra.SecondFactor(True, frozenset(), True, "OTP")))
    for realm, factor in variants:
        unused = {"clientId": "old", "publicClient": False, "standardFlowEnabled": False}
        lifespan = {**HARD_APP, "clientId": "slow", "attributes": {"access.token.lifespan": "900"}}
        settings += [*ra.audit_password_policy(realm, limits), *ra.audit_brute_force(realm, limits),
                     *ra.audit_mfa(factor, limits), *ra.audit_events(realm, limits),
                     *ra.audit_token_lifetime(realm, [lifespan], limits, "x"),
                     *ra.audit_clients(realm, [LAX_APP, HARD_APP, unused], "staging", "x"),
                     *ra.audit_clients(realm, [], "ci", "x")]
    settings += ra.authorization_settings("app", answers(s256=LOGIN, none=LOGIN, plain=PKCE_ERROR, token=NOT_ALLOWED))
    settings += ra.authorization_settings("app", answers(s256=LOGIN, none=ra.AuthorizationAnswer(ra.ISSUED)))
    settings.append(ra.token_lifetime_seen({"iat": 0, "exp": 86400}, limits, "user1's access token"))
    # the suites' own rows (suites/test_identity_provider.py): lockout, weak passwords, idp_established
    for name, value, limit in (
            ("correct password after 11 wrong ones", "refused (locked)", "refused"),
            ("correct password after 11 wrong ones", "accepted", "refused"),
            ("answer to a locked account", "differs from a wrong password", "same as a wrong password"),
            ("answer to a locked account", "same as a wrong password", "same as a wrong password"),
            ("registration with a 11-character password", "answered as accepted, but the account does not log in "
                                                          "with it", "refused"),
            ("password change to a 11-character password", "accepted: the account logs in with it", "refused"),
            ("token issuer", "an opaque credential, not a JWT", "an established identity provider")):
        settings.append(ra.Setting("x", name, value, limit, "TR-03161 O.Pass_1", False, ra.BEHAVIOUR))
    return [setting for setting in settings if setting is not None]


def test_the_german_identity_table_shows_no_english_name_value_or_limit() -> None:
    from reports import Outcome, ResultRecord
    from reports._identity import identity_settings
    from reports._messages import to_german

    settings = every_kind_of_setting()
    record = ResultRecord(check="idp_x", method="GET", path="/p", variant=None, outcome=Outcome.FAIL,
                          settings=tuple(setting.to_dict() for setting in settings))
    english = identity_settings([record])
    german = identity_settings([record], to_german)
    left = {row[key] for row in german for key in ("name", "value", "limit")
            if ENGLISH & set(re.findall(r"(?<![\w.=-])[a-z]+(?![\w.=-])", row[key]))}
    assert not left, left
    assert {(row["value"], row["limit"]) for row in english} >= {("yes", "yes"), ("off", "on")}  # English as written
    assert ("nein", "ja") in {(row["value"], row["limit"]) for row in german}
