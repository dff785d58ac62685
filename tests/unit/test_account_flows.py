"""Pure logic of the account-existence checks: finding account flows, filling them, Keycloak's pages, comparing."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

from fixtures import account_flows as af
from fixtures.catalogue import Operation, Parameter
from fixtures.compare import ResponseShape
from fixtures.profile import AccountFlowSettings, AccountTimingSettings

JSON = "application/json"
HTML = "text/html;charset=utf-8"


def operation(
    method: str,
    path: str,
    *,
    body: dict[str, Any] | None = None,
    parameters: tuple[Parameter, ...] = (),
    operation_id: str | None = None,
    tags: tuple[str, ...] = (),
    needs_auth: bool = False,
) -> Operation:
    return Operation(method=method, path=path, operation_id=operation_id, tags=tags, needs_auth=needs_auth,
                     auth_reason="test", parameters=parameters, body_schema=body,
                     body_media_type=JSON if body else None)


def body(*names: str, **schemas: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {name: {"type": "string"} for name in names}
    properties.update(schemas)
    return {"type": "object", "properties": properties, "required": list(properties)}


LOGIN = operation("POST", "/v1/auth/login", body=body("username", "password"), operation_id="login")
RESET = operation("POST", "/v1/auth/password-reset", body=body("email"), operation_id="request_password_reset")
REGISTER = operation("POST", "/v1/auth/register", body=body("email", "password", "given_name"))
NOTES = operation("POST", "/v1/notes", body=body("text"), needs_auth=True)
CHANGE_PASSWORD = operation("PUT", "/v1/me/password", body=body("password"), needs_auth=True)


def discovered(*ops: Operation, **settings: Any) -> dict[str, af.AccountFlow]:
    return {flow.label: flow for flow in af.discover_flows(list(ops), AccountFlowSettings(**settings))}


# -- discovery --------------------------------------------------------------------------------------------------
def test_login_reset_and_registration_are_discovered_with_their_reasons() -> None:
    flows = discovered(LOGIN, RESET, REGISTER, NOTES)
    assert {label: flow.kind for label, flow in flows.items()} == {
        "POST /v1/auth/login": "login",
        "POST /v1/auth/password-reset": "password_reset",
        "POST /v1/auth/register": "registration",
    }
    login = flows["POST /v1/auth/login"]
    assert "path `/v1/auth/login` contains 'login'" in login.reason
    assert "operationId `login` contains 'login'" in login.reason
    assert "body field `username` (username)" in login.reason
    assert login.describe().startswith("treated as a login flow: discovered:")
    assert [f.name for f in login.identifiers] == ["username"]
    assert [f.name for f in login.passwords] == ["password"]
    assert login.problem is None
    assert "contains 'password' and 'reset'" in flows["POST /v1/auth/password-reset"].reason


def test_operations_that_need_a_token_or_name_no_account_are_not_candidates() -> None:
    assert discovered(CHANGE_PASSWORD, NOTES, operation("POST", "/v1/auth/token/refresh", body=body("refresh"))) == {}


@pytest.mark.parametrize(
    ("path", "operation_id", "kind"),
    [
        ("/api/users/signIn", None, "login"),
        ("/api/sign-up", None, "registration"),
        ("/api/accounts/forgot", None, "password_reset"),
        ("/api/email/exists", None, "availability"),
        ("/api/register/verify", None, "availability"),
        ("/api/password", None, "password_reset"),
        ("/api/x", "checkEmailAvailability", "availability"),
        ("/oauth/token", None, "login"),
    ],
)
def test_flow_words_decide_the_kind(path: str, operation_id: str | None, kind: str) -> None:
    op = operation("POST", path, body=body("email"), operation_id=operation_id)
    assert discovered(op)[op.label].kind == kind


def test_a_public_operation_with_an_email_field_but_no_flow_word_is_left_alone() -> None:
    assert discovered(operation("POST", "/v1/newsletter", body=body("email"))) == {}


def test_fields_in_query_path_by_format_and_behind_refs_are_found() -> None:
    by_query = operation("GET", "/v1/accounts/available", parameters=(
        Parameter("e-mail", "query", True, {"type": "string"}), Parameter("lang", "query", False, {})))
    by_path = operation("GET", "/v1/users/{login}/exists", parameters=(
        Parameter("login", "path", True, {"type": "string"}),))
    by_format = operation("POST", "/v1/auth/forgot", body=body(contact={"type": "string", "format": "email"}))
    by_ref = operation("POST", "/v1/signin", body={
        "$ref": "#/$defs/Login",
        "$defs": {"Login": {"allOf": [{"properties": {"userName": {"type": "string"}}},
                                      {"properties": {"passwd": {"type": "string"}}}]}},
    })
    flows = discovered(by_query, by_path, by_format, by_ref)
    assert flows[by_query.label].fields == (af.AccountField("query", "e-mail", "email"),)
    assert flows[by_path.label].fields == (af.AccountField("path", "login", "username"),)
    assert flows[by_format.label].fields == (af.AccountField("body", "contact", "email"),)
    assert flows[by_ref.label].fields == (af.AccountField("body", "userName", "username"),
                                          af.AccountField("body", "passwd", "password"))


def test_operations_named_in_the_profile_replace_discovery_unless_told_otherwise() -> None:
    named = discovered(LOGIN, RESET, login=["POST /v1/auth/login"])
    assert list(named) == ["POST /v1/auth/login"]
    assert named["POST /v1/auth/login"].reason.startswith("named in the profile (account_flows.login)")
    both = discovered(LOGIN, RESET, login=["POST /v1/auth/login"], discover="always")
    assert set(both) == {"POST /v1/auth/login", "POST /v1/auth/password-reset"}
    assert discovered(LOGIN, RESET, discover="never") == {}


def test_a_named_operation_that_cannot_be_tested_says_why() -> None:
    flows = discovered(NOTES, availability=["POST /v1/notes", "GET /v1/missing"], login=["POST /v1/auth/register"])
    assert "no request field that names an account" in str(flows["POST /v1/notes"].problem)
    assert "account_flows.email_fields" in str(flows["POST /v1/notes"].problem)
    assert "has no such operation" in str(flows["GET /v1/missing"].problem)
    register_as_login = discovered(operation("POST", "/v1/auth/register", body=body("email")),
                                   login=["POST /v1/auth/register"])
    assert "without a password field" in str(register_as_login["POST /v1/auth/register"].problem)


def test_field_names_come_from_the_profile() -> None:
    op = operation("POST", "/v1/auth/login", body=body("kennung", "geheim"))
    assert discovered(op) == {}
    flows = discovered(op, username_fields=["kennung"], password_fields=["geheim"])
    assert [f.role for f in flows[op.label].fields] == ["username", "password"]


def test_the_profile_refuses_operation_names_that_are_not_method_and_path() -> None:
    with pytest.raises(ValueError, match="METHOD /path"):
        AccountFlowSettings(login=["/v1/auth/login"])


def test_words_split_camel_case_and_separators_and_join_pairs() -> None:
    assert {"sign", "in", "signin", "request", "password", "reset"} <= af.words_of("signIn requestPassword_reset")
    assert "login" in af.words_of("log-in")


# -- Keycloak's flows -------------------------------------------------------------------------------------------
def test_keycloak_flows_are_synthetic_public_operations() -> None:
    flows = {flow.keycloak: flow for flow in af.keycloak_flows()}
    assert set(flows) == {"token", "login_form", "reset_form", "registration_form"}
    token = flows["token"]
    assert token.label == "POST /realms/{realm}/protocol/openid-connect/token"
    assert token.kind == "login"
    assert not token.operation.needs_auth
    assert flows["registration_form"].kind == "registration"


def test_keycloak_forms_apply_only_where_the_realm_offers_them() -> None:
    flows = {flow.keycloak: flow for flow in af.keycloak_flows()}
    closed = {"registrationAllowed": False, "resetPasswordAllowed": False}
    assert "registrationAllowed: false" in str(af.keycloak_precondition(flows["registration_form"], closed))
    assert "resetPasswordAllowed: false" in str(af.keycloak_precondition(flows["reset_form"], closed))
    assert af.keycloak_precondition(flows["token"], closed) is None
    opened = {"registrationAllowed": True, "resetPasswordAllowed": True}
    assert af.keycloak_precondition(flows["registration_form"], opened) is None


def test_keycloak_advice_names_the_realm_setting() -> None:
    flows = {flow.keycloak: flow for flow in af.keycloak_flows()}
    advice = af.keycloak_advice(flows["registration_form"], {"duplicateEmailsAllowed": False}, ["existing"])
    assert "registrationAllowed: false" in advice
    assert "duplicateEmailsAllowed: true" in advice
    assert "smtpServer" in af.keycloak_advice(flows["reset_form"], {}, ["existing"])
    assert "disabled" in af.keycloak_advice(flows["login_form"], {}, ["disabled"])
    assert af.realm_summary({"registrationAllowed": True, "other": 1}) == "registrationAllowed: true"


def test_redirect_uri_of_a_client() -> None:
    kc = "http://127.0.0.1:8080"
    assert af.redirect_uri_for({"redirectUris": ["/realms/diga/account/*"]}, kc) == f"{kc}/realms/diga/account/"
    assert af.redirect_uri_for({"redirectUris": ["/cb"], "rootUrl": "${authBaseUrl}"}, kc) == f"{kc}/cb"
    assert af.redirect_uri_for({"redirectUris": ["+", "http://127.0.0.1/app/*"]}, kc) == "http://127.0.0.1/app/"
    assert af.redirect_uri_for({"redirectUris": []}, kc) is None


# -- requests ---------------------------------------------------------------------------------------------------
def test_fill_fields_puts_the_account_where_the_fields_are() -> None:
    fields = (af.AccountField("body", "username", "username"), af.AccountField("body", "password", "password"),
              af.AccountField("query", "mail", "email"), af.AccountField("path", "who", "username"))
    account = af.Account("alice", "alice@example.org", "wrong")
    path, query, filled = af.fill_fields(fields, account, identify_by="username", body={"keep": 1})
    assert filled == {"keep": 1, "username": "alice", "password": "wrong"}
    assert query == {"mail": "alice@example.org"}
    assert path == {"who": "alice"}
    _path, _query, by_email = af.fill_fields(fields, account, identify_by="email", body=None)
    assert by_email is None
    _path, _query, by_email = af.fill_fields(fields, account, identify_by="email", body={})
    assert by_email["username"] == "alice@example.org"


def test_literal_forms_cover_the_encodings_a_response_may_echo() -> None:
    forms = af.literal_forms("Alice@Example.org")
    assert {"Alice@Example.org", "alice@example.org", "Alice%40Example.org"} <= set(forms)


# -- Keycloak's pages -------------------------------------------------------------------------------------------
ACTION = "http://127.0.0.1:8080/realms/diga/login-actions/authenticate?session_code=abc&amp;execution=e1&amp;tab_id=t1"
LOGIN_PAGE = f"""<html><body>
<form id="kc-form-login" action="{ACTION}" method="post">
  <input id="username" name="username" value="" type="text" autofocus>
  <input id="password" name="password" type="password">
  <input type="hidden" id="id-hidden-input" name="credentialId" value="cred">
  <input type="checkbox" name="rememberMe" checked>
  <input type="checkbox" name="newsletter">
  <input type="submit" name="login" value="Sign in">
  <input name="firstName" type="text">
</form>
<a href="/realms/diga/login-actions/reset-credentials?client_id=app&amp;tab_id=t1">Forgot password?</a>
<span class="pf-m-error kc-feedback-text">Invalid username or password.</span>
</body></html>"""


def test_parse_page_reads_forms_and_links_with_entities_decoded() -> None:
    page = af.parse_page(LOGIN_PAGE)
    form = page.form_posting_to("login-actions/authenticate")
    assert form is not None
    assert form.action.endswith("session_code=abc&execution=e1&tab_id=t1")
    assert form.method == "POST"
    assert form.names() == ["username", "password", "credentialId", "rememberMe", "newsletter", "login", "firstName"]
    assert page.link_to("reset-credentials") == "/realms/diga/login-actions/reset-credentials?client_id=app&tab_id=t1"
    assert page.form_posting_to("registration") is None
    assert af.page_feedback(LOGIN_PAGE) == "Invalid username or password."


def test_fill_form_sends_what_a_browser_sends() -> None:
    form = af.parse_page(LOGIN_PAGE).form_posting_to("authenticate")
    assert form is not None
    data = af.fill_form(form, {"username": "alice"}, password="secret", filler="Digasec")
    assert data == {"username": "alice", "password": "secret", "credentialId": "cred", "rememberMe": "on",
                    "firstName": "Digasec"}


def test_cookies_are_kept_and_expired_ones_dropped() -> None:
    jar: dict[str, str] = {}
    af.merge_cookies(jar, ["AUTH_SESSION_ID=abc.def;Version=1;Path=/realms/diga/;Secure;HttpOnly;SameSite=None",
                           'KC_AUTH_SESSION_HASH="h/a=sh";Version=1;Max-Age=60;Secure'])
    assert af.cookie_header(jar) == 'AUTH_SESSION_ID=abc.def; KC_AUTH_SESSION_HASH="h/a=sh"'
    af.merge_cookies(jar, ["AUTH_SESSION_ID=;Max-Age=0;Path=/", "KC_AUTH_SESSION_HASH=x; Max-Age=0"])
    assert jar == {}


def test_pkce_challenge_is_the_s256_of_the_verifier() -> None:
    verifier, challenge = af.pkce_pair()
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert challenge == expected
    assert 43 <= len(verifier) <= 128


# -- comparing cases --------------------------------------------------------------------------------------------
def json_answer(status: int, payload: Any, literals: tuple[str, ...] = (), **headers: str) -> af.Observation:
    return af.Observation(ResponseShape(status, {"content-type": JSON, **headers}, json.dumps(payload)), literals)


def test_identical_answers_with_dynamic_parts_are_indistinguishable() -> None:
    existing = [json_answer(202, {"detail": "check your inbox", "request": f"r{i}"}, **{"x-request-id": f"{i}"})
                for i in range(3)]
    unknown = [json_answer(202, {"detail": "check your inbox", "request": f"q{i}"}, **{"x-request-id": f"{i}"})
               for i in range(3)]
    assert af.case_differences(existing, unknown) == []


def test_status_and_message_differences_are_shown() -> None:
    existing = [json_answer(401, {"detail": "wrong password"}) for _ in range(2)]
    unknown = [json_answer(404, {"detail": "no such user"}) for _ in range(2)]
    differences = af.case_differences(existing, unknown)
    assert differences[0] == "status 401 vs 404"
    assert "wrong password" in differences[1]
    assert "no such user" in differences[1]


def test_echoed_input_is_not_a_difference() -> None:
    alice = af.literal_forms("alice@example.org")
    nobody = af.literal_forms("nobody@example.org")
    existing = [json_answer(400, {"detail": "login failed for alice@example.org"}, alice) for _ in range(2)]
    unknown = [json_answer(400, {"detail": "login failed for nobody@example.org"}, nobody) for _ in range(2)]
    assert af.case_differences(existing, unknown) == []


def test_header_and_cookie_differences_count() -> None:
    existing = [json_answer(200, {}, **{"set-cookie": "lockout=1; Path=/"}) for _ in range(2)]
    unknown = [json_answer(200, {}) for _ in range(2)]
    assert af.case_differences(existing, unknown) == ["cookie names: only in first: lockout"]


def html_answer(session: str, message: str, username: str) -> af.Observation:
    action = f"/realms/diga/login-actions/authenticate?session_code={session}&amp;tab_id=t{session}"
    page = (f'<html><form action="{action}">'
            f'<input name="username" value="{username}"></form><p>{message}</p>'
            f'<p>state {session[:8]}</p></html>')
    return af.Observation(ResponseShape(200, {"content-type": HTML}, page), af.literal_forms(username))


def test_keycloak_pages_differ_only_where_the_message_differs() -> None:
    same = [html_answer(f"{i}Xy9{i}kq{i}", "Invalid username or password.", "alice") for i in range(3)]
    other = [html_answer(f"{i}Zz7{i}mm{i}", "Invalid username or password.", "nobody") for i in range(3)]
    assert af.case_differences(same, other) == []
    disabled = [html_answer(f"{i}Ab1{i}cd{i}", "Account is disabled.", "alice") for i in range(3)]
    differences = af.case_differences(disabled, other)
    assert len(differences) == 1
    assert "Account is disabled" in differences[0]


def test_standard_base64_runs_are_masked_whole() -> None:
    def page(blob: str) -> af.Observation:
        return af.Observation(ResponseShape(200, {"content-type": HTML}, f'<script>check("{blob}")</script>'))

    blobs = ["o7DrCkS9Flm/+UvpssFV8Qq9+F35zYJ2ew8BBJxs57Nt5rjJ2Mbz/PvpglauZocz",
             "rtuvx25+Kq0v9T1hJ8wXyzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdef",
             "vp55fOfLY2y8/Ab3dEfGhIjKlMnOpQrStUvWxYz0123456789abcdefGHIJKLmn",
             "Zq1/aB2+cD3eF4gH5iJ6kL7mN8oP9qR0sT1uV2wX3yZ4aB5cD6eF7gH8iJ9kL0mN"]
    assert af.premask(page(blobs[0]).shape).body == '<script>check("<random>")</script>'
    assert af.case_differences([page(blobs[0]), page(blobs[1])], [page(blobs[2]), page(blobs[3])]) == []


def test_a_part_that_varies_on_one_side_only_is_not_a_finding() -> None:
    varying = [json_answer(200, {"detail": "ok", "n": f"v{i}"}) for i in range(3)]
    constant = [json_answer(200, {"detail": "ok", "n": "v0"}) for _ in range(3)]
    assert af.case_differences(varying, constant) == []


def test_statuses_that_vary_within_a_case_are_reported() -> None:
    assert af.statuses_vary([json_answer(401, {}), json_answer(429, {})]) == [401, 429]
    assert af.statuses_vary([json_answer(401, {}), json_answer(401, {})]) == []


# -- timing -----------------------------------------------------------------------------------------------------
def test_timing_verdicts_share_alpha_between_comparisons() -> None:
    settings = AccountTimingSettings(samples=30, alpha=0.01, min_effect=0.5, min_abs_diff_ms=20)
    base = [0.010 + 0.0001 * (i % 7) for i in range(30)]
    slow = [value + 0.150 for value in base]
    verdicts = af.timing_verdicts({"existing": slow, "disabled": list(base), "unknown": list(reversed(base))},
                                  settings, labels={"existing": "existing account", "unknown": "unknown account"})
    assert verdicts["existing"].leak
    assert "existing account answers measurably slower" in verdicts["existing"].message
    assert not verdicts["disabled"].leak
    assert "alpha 0.005" in verdicts["disabled"].message


def test_a_small_but_significant_difference_is_no_finding() -> None:
    settings = AccountTimingSettings(min_abs_diff_ms=20)
    base = [0.010 + 0.0001 * i for i in range(30)]
    verdicts = af.timing_verdicts({"existing": [v + 0.005 for v in base], "unknown": base}, settings)
    assert not verdicts["existing"].leak
    assert "below the minimum difference 20 ms" in verdicts["existing"].message


def test_case_labels_read_naturally() -> None:
    assert af.case_label("login", "existing") == "existing account with a wrong password"
    assert af.case_label("registration", "unknown") == "unused e-mail/username"
    assert af.case_label("registration", "existing") == "e-mail/username of an existing account"
    assert af.case_label("password_reset", "disabled") == "disabled account"
