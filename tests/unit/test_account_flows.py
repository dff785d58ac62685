"""Pure logic of the account-existence checks: finding account flows, filling them, Keycloak's pages, comparing."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import threading
from typing import Any

import pytest

import suites.test_account_existence as leak
from fixtures.analysis.compare import ResponseShape
from fixtures.api import account_flows as af
from fixtures.api.catalogue import Operation, Parameter
from fixtures.target.profile import AccountFlowSettings, AccountTimingSettings

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


# -- spellings of real APIs (issue 12) --------------------------------------------------------------------------
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
OAUTH2_FORM = body("grant_type", "username", "password", "scope", "client_id")


def form_operation(method: str, path: str, fields: dict[str, Any], media_type: str = FORM, **kwargs: Any
                   ) -> Operation:
    op = operation(method, path, body=fields, **kwargs)
    return dataclasses.replace(op, body_media_type=media_type)


def oauth2_document(token_url: str, servers: list[str] | None = None, flow: str = "password") -> dict[str, Any]:
    document: dict[str, Any] = {"components": {"securitySchemes": {
        "OAuth2PasswordBearer": {"type": "oauth2", "flows": {flow: {"tokenUrl": token_url, "scopes": {}}}},
        "bearer": {"type": "http", "scheme": "bearer"},
    }}}
    if servers is not None:
        document["servers"] = [{"url": url} for url in servers]
    return document


def discovered_in(document: dict[str, Any], *ops: Operation) -> dict[str, af.AccountFlow]:
    flows = af.discover_flows(list(ops), AccountFlowSettings(), document)
    return {flow.label: flow for flow in flows}


@pytest.mark.parametrize(
    ("token_url", "servers", "path"),
    [
        ("/api/v1/login/access-token", None, "/api/v1/login/access-token"),  # absolute path (FastAPI template)
        ("token", None, "/token"),  # relative to the server URL
        ("token", ["http://127.0.0.1:8000/api"], "/token"),  # paths are relative to the server's path
        ("/api/auth/jwt", ["/api"], "/auth/jwt"),  # a tokenUrl that repeats the server's path
        ("http://127.0.0.1:8000/v2/oauth/obtain", None, "/v2/oauth/obtain"),  # absolute URL
    ],
)
def test_the_oauth2_password_flows_token_url_is_a_login(token_url: str, servers: list[str] | None,
                                                        path: str) -> None:
    # no flow word in `/auth/jwt` or `/v2/oauth/obtain`: only the tokenUrl makes them logins
    login = form_operation("POST", path, OAUTH2_FORM)
    other = form_operation("POST", "/api/v1/items", body("title"))
    flows = discovered_in(oauth2_document(token_url, servers), login, other)
    assert list(flows) == [login.label]
    flow = flows[login.label]
    assert flow.kind == "login"
    assert f"the OAuth2 password flow's tokenUrl `{token_url}` (securitySchemes `OAuth2PasswordBearer`)" in flow.reason
    assert [(f.name, f.role) for f in flow.fields] == [("username", "username"), ("password", "password")]
    assert flow.problem is None


def test_a_token_url_of_another_flow_or_pointing_nowhere_makes_no_login() -> None:
    obtain = form_operation("POST", "/v2/oauth/obtain", OAUTH2_FORM)
    assert discovered_in(oauth2_document("/v2/oauth/obtain", flow="clientCredentials"), obtain) == {}
    assert discovered_in(oauth2_document("/v2/oauth/elsewhere"), obtain) == {}
    get_only = form_operation("GET", "/v2/oauth/obtain", OAUTH2_FORM)
    assert discovered_in(oauth2_document("/v2/oauth/obtain"), get_only) == {}


@pytest.mark.parametrize(
    ("method", "path", "fields", "media_type", "kind"),
    [
        ("POST", "/token", OAUTH2_FORM, FORM, "login"),
        ("POST", "/api/v1/login/access-token", OAUTH2_FORM, FORM, "login"),
        ("POST", "/api/v1/users/signup", body("email", "password", "full_name"), JSON, "registration"),
        ("POST", "/signup", body("email", "password"), MULTIPART, "registration"),
        ("POST", "/api/v1/users", body("email", "password"), JSON, "registration"),
        ("POST", "/api/v1/accounts/", body("username", "password"), FORM, "registration"),
        ("POST", "/reset-password", body("username"), JSON, "password_reset"),
        ("POST", "/auth/reset-password", body("phone_number"), FORM, "password_reset"),
    ],
)
def test_account_flows_as_real_apis_spell_them(method: str, path: str, fields: dict[str, Any], media_type: str,
                                               kind: str) -> None:
    op = form_operation(method, path, fields, media_type)
    flow = discovered(op)[op.label]
    assert flow.kind == kind
    assert flow.problem is None
    assert flow.reason.startswith("discovered: ")


def test_a_collection_post_creates_an_account_only_with_a_password_and_without_a_token() -> None:
    no_password = operation("POST", "/api/v1/users", body=body("email", "full_name"))
    admin_creates = operation("POST", "/api/v1/users", body=body("email", "password"), needs_auth=True)
    not_accounts = operation("POST", "/api/v1/vaults", body=body("email", "password"))
    item = operation("POST", "/api/v1/users/{user_id}", body=body("email", "password"),
                     parameters=(Parameter("user_id", "path", True, {"type": "integer"}),))
    assert discovered(no_password, admin_creates, not_accounts, item) == {}
    users = operation("POST", "/api/v1/users", body=body("email", "password"))
    assert "a public POST on the collection `/api/v1/users` with a password field creates an account" in \
        discovered(users)[users.label].reason


def test_password_recovery_names_the_account_in_its_path() -> None:
    op = operation("POST", "/api/v1/password-recovery/{email}",
                   parameters=(Parameter("email", "path", True, {"type": "string"}),))
    flow = discovered(op)[op.label]
    assert flow.kind == "password_reset"
    assert flow.fields == (af.AccountField("path", "email", "email"),)
    assert "contains 'password' and 'recovery'" in flow.reason
    path, _query, _body = af.fill_fields(flow.fields, af.Account("bob", "bob@example.org", "x"),
                                         identify_by="username", body=None)
    assert path == {"email": "bob@example.org"}
    unrelated = operation("GET", "/api/v1/items/{email}",
                          parameters=(Parameter("email", "path", True, {"type": "string"}),))
    assert discovered(unrelated) == {}


@pytest.mark.parametrize("name", ["phone", "phone_number", "mobile", "msisdn", "phoneNumber"])
def test_phone_fields_name_an_account(name: str) -> None:
    op = operation("POST", "/reset-password", body=body(name))
    flow = discovered(op)[op.label]
    assert flow.fields == (af.AccountField("body", name, "phone"),)
    assert flow.phone_only
    assert flow.identifiers == flow.fields
    assert discovered(operation("POST", "/v1/newsletter", body=body(name))) == {}  # no flow word: left alone


def test_phone_fields_are_filled_with_the_accounts_phone_and_can_be_left_out() -> None:
    op = operation("POST", "/reset-password", body=body("username", "mobile"))
    flow = discovered(op)[op.label]
    assert not flow.phone_only
    _path, _query, filled = af.fill_fields(flow.fields, af.Account("bob", "b@x.org", "pw", "+4915112345678"),
                                           identify_by="username", body={})
    assert filled == {"username": "bob", "mobile": "+4915112345678"}
    assert [f.name for f in flow.without_phone().fields] == ["username"]
    assert "+4915112345678" in af.Account("bob", "b@x.org", "pw", "+4915112345678").literals()


def test_phone_field_names_come_from_the_profile_when_it_names_them() -> None:
    settings = AccountFlowSettings()
    op = operation("POST", "/reset-password", body=body("handynummer"))
    assert af.account_fields(op, settings) == ()
    custom = type("Settings", (), {**{k: getattr(settings, k) for k in type(settings).model_fields},
                                   "phone_fields": ["handynummer"]})()
    assert af.account_fields(op, custom) == (af.AccountField("body", "handynummer", "phone"),)


@pytest.mark.parametrize(
    ("method", "path", "fields"),
    [
        ("PATCH", "/api/v1/users/me", body("email", "full_name")),
        ("PUT", "/account", body("username")),
        ("PUT", "/user", body("email")),
        ("POST", "/api/profile/change-email", body("new_email", "password", new_email={"format": "email"})),
    ],
)
def test_a_change_of_ones_own_email_or_username_is_an_account_flow(method: str, path: str,
                                                                   fields: dict[str, Any]) -> None:
    op = operation(method, path, body=fields, needs_auth=True)
    flow = discovered(op)[op.label]
    assert flow.kind == "account_update"
    assert flow.reason.startswith(f"discovered: an authenticated {method} on the caller's own account")
    assert flow.describe().startswith("treated as a change of one's own e-mail or username flow")
    assert flow.identifiers


@pytest.mark.parametrize(
    ("method", "path", "fields", "parameters"),
    [
        ("PATCH", "/api/v1/users/{user_id}", body("email"), (Parameter("user_id", "path", True, {}),)),  # anyone's
        ("PUT", "/v1/me", body("display_name", "birth_year"), ()),  # no e-mail or username
        ("POST", "/v1/contacts", body("email"), ()),  # not the caller's own account
        ("POST", "/api/v1/users/me", body("email"), ()),  # a POST that does not say it changes the address
        ("PATCH", "/users/me", body(user={"type": "object", "properties": {"email": {"type": "string"}}}), ()),
    ],
)
def test_near_misses_of_an_account_update_are_no_flow(method: str, path: str, fields: dict[str, Any],
                                                      parameters: tuple[Parameter, ...]) -> None:
    assert discovered(operation(method, path, body=fields, parameters=parameters, needs_auth=True)) == {}


@pytest.mark.parametrize("media_type", [FORM, MULTIPART, JSON])
def test_account_fields_of_every_body_media_type_are_found(media_type: str) -> None:
    op = form_operation("POST", "/login", body("username", "password"), media_type)
    assert [f.role for f in af.account_fields(op, AccountFlowSettings())] == ["username", "password"]


def test_case_labels_of_an_account_update() -> None:
    assert af.case_label("account_update", af.EXISTING) == "e-mail/username of another, existing account"
    assert af.case_label("account_update", af.UNKNOWN) == "unused e-mail/username"


def test_keycloak_flows_are_not_ruled_out_by_settings_nobody_could_read() -> None:
    flows = {flow.keycloak: flow for flow in af.keycloak_flows()}
    assert af.keycloak_precondition(flows["registration_form"], {}) is None
    assert af.keycloak_precondition(flows["reset_form"], {}) is None
    assert "could not be read" in af.keycloak_advice(flows["token"], {}, ["existing"])


# -- answers of a login -----------------------------------------------------------------------------------------
JWT_VALUE = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("status", "headers", "text", "evidence"),
    [
        (200, [], json.dumps({"access_token": JWT_VALUE, "token_type": "bearer"}),
         "a token in the body (`access_token`)"),
        (200, [], json.dumps({"data": {"auth": {"jwt": "opaque-0123456789"}}}), "a token in the body (`jwt`)"),
        (200, [], f"<html>{JWT_VALUE}</html>", "a JWT in the body"),
        (200, [("X-Auth-Token", "abcdef0123456789")], '{"status": "success"}', "a credential in the header"),
        (204, [("Set-Cookie", "sessionid=abc123; HttpOnly; Path=/")], "", "a cookie (`sessionid`)"),
        (302, [("Set-Cookie", "sid=1; Path=/"), ("Location", "/home")], "", "a cookie (`sid`)"),
    ],
)
def test_a_login_succeeds_when_a_credential_comes_back(status: int, headers: list[tuple[str, str]], text: str,
                                                       evidence: str) -> None:
    assert evidence in str(af.login_evidence(status, headers, text))


@pytest.mark.parametrize(
    ("status", "headers", "text"),
    [
        (200, [], json.dumps({"status": "fail", "message": "Username and password do not match"})),
        (200, [("Set-Cookie", "csrftoken=abc; Path=/")], json.dumps({"status": "fail", "message": "no"})),
        (200, [], json.dumps({"success": False, "token": "0123456789abcdef"})),
        (200, [], json.dumps({"message": "welcome"})),  # nothing handed out
        (200, [("WWW-Authenticate", "Bearer")], ""),
        (200, [("Set-Cookie", "session=; Max-Age=0")], ""),  # a cookie that is cleared is no credential
        (401, [], json.dumps({"access_token": JWT_VALUE})),
    ],
)
def test_a_login_that_hands_out_nothing_or_says_it_failed_is_no_success(status: int, headers: list[tuple[str, str]],
                                                                       text: str) -> None:
    assert af.login_evidence(status, headers, text) is None


def test_says_failure_reads_common_failure_bodies() -> None:
    assert af.says_failure('{"status": "fail", "message": "Account does not exist"}') == "`status: fail`"
    assert af.says_failure('{"ok": false}') == "`ok: false`"
    assert af.says_failure('{"errors": ["taken"]}') == "`errors`"
    assert af.says_failure('{"status": "ok", "errors": []}') is None
    assert af.says_failure("<html>fail</html>") is None
    assert af.says_failure("[1, 2]") is None


# -- what runs with which identity source -----------------------------------------------------------------------
def support(source: str, **overrides: Any) -> af.AccountSupport:
    presets: dict[str, dict[str, Any]] = {
        "keycloak_admin": {"register": True, "admin": True, "known": 3, "passwords": 3, "keycloak": True},
        "keycloak_accounts": {"register": False, "admin": False, "known": 2, "passwords": 2, "keycloak": True},
        "backend_api": {"register": True, "admin": False, "known": 3, "passwords": 3, "keycloak": False},
        "backend_api_accounts": {"register": False, "admin": False, "known": 3, "passwords": 3, "keycloak": False},
        "tokens": {"register": False, "admin": False, "known": 0, "passwords": 0, "keycloak": False},
    }
    values = {"phones": False, **presets[source], **overrides}
    return af.AccountSupport(source=source.replace("_accounts", "") if source != "keycloak_accounts" else source,
                             **values)


LOGIN_FLOW = af.AccountFlow(LOGIN, "login", "test", af.account_fields(LOGIN, AccountFlowSettings()))
RESET_FLOW = af.AccountFlow(RESET, "password_reset", "test", af.account_fields(RESET, AccountFlowSettings()))
REGISTER_FLOW = af.AccountFlow(REGISTER, "registration", "test", af.account_fields(REGISTER, AccountFlowSettings()))
ME = operation("PATCH", "/users/me", body=body("email"), needs_auth=True)
UPDATE_FLOW = af.AccountFlow(ME, "account_update", "test", af.account_fields(ME, AccountFlowSettings()))
PHONE_OP = operation("POST", "/reset-password", body=body("msisdn"))
PHONE_FLOW = af.AccountFlow(PHONE_OP, "password_reset", "test", af.account_fields(PHONE_OP, AccountFlowSettings()))
ALL_FLOWS = (LOGIN_FLOW, RESET_FLOW, REGISTER_FLOW, UPDATE_FLOW)


@pytest.mark.parametrize("source", ["keycloak_admin", "backend_api"])
def test_sources_that_create_accounts_run_every_flow(source: str) -> None:
    assert [af.flow_blocker(flow, support(source)) for flow in ALL_FLOWS] == [None] * 4


def test_only_admin_rights_give_a_disabled_account() -> None:
    assert support("keycloak_admin").disabled is None
    reason = str(support("backend_api").disabled)
    assert "disabled accounts are not compared" in reason
    assert "`backend_api` has none" in reason


@pytest.mark.parametrize("source", ["keycloak_accounts", "backend_api_accounts"])
def test_sources_with_test_accounts_only_run_all_but_registration(source: str) -> None:
    blockers = {flow.kind: af.flow_blocker(flow, support(source)) for flow in ALL_FLOWS}
    assert (blockers["login"], blockers["password_reset"], blockers["account_update"]) == (None, None, None)
    assert "creates an account that the identity source" in str(blockers["registration"])


def test_pre_issued_tokens_without_names_run_nothing_and_with_names_no_login() -> None:
    assert all("knows no account by name" in str(af.flow_blocker(flow, support("tokens"))) for flow in ALL_FLOWS)
    named = support("tokens", known=2)
    assert af.flow_blocker(RESET_FLOW, named) is None
    assert af.flow_blocker(UPDATE_FLOW, named) is None
    assert "knows no password" in str(af.flow_blocker(LOGIN_FLOW, named))
    assert "knows only 1" in str(af.flow_blocker(UPDATE_FLOW, support("tokens", known=1)))


def test_keycloaks_registration_form_needs_admin_rights_to_remove_what_it_creates() -> None:
    form = next(flow for flow in af.keycloak_flows() if flow.keycloak == af.KEYCLOAK_REGISTRATION_FORM)
    assert af.flow_blocker(form, support("keycloak_admin")) is None
    assert "only through Keycloak's admin API" in str(af.flow_blocker(form, support("backend_api", keycloak=True)))
    token = next(flow for flow in af.keycloak_flows() if flow.keycloak == af.KEYCLOAK_TOKEN)
    assert af.flow_blocker(token, support("keycloak_accounts")) is None


def test_phone_only_flows_need_accounts_with_a_phone() -> None:
    assert "no phone number" in str(af.flow_blocker(PHONE_FLOW, support("backend_api")))
    assert af.flow_blocker(PHONE_FLOW, support("backend_api", phones=True)) is None


def test_read_only_and_flow_problems_come_first() -> None:
    assert "read_only: true" in str(af.flow_blocker(RESET_FLOW, support("keycloak_admin", read_only=True)))
    broken = af.AccountFlow(NOTES, "availability", "test", problem="no field")
    assert af.flow_blocker(broken, support("keycloak_admin", read_only=True)) == "no field"


def test_accounts_known_by_name() -> None:
    from fixtures.identity import TestUser

    def user(key: str, username: str, email: str = "") -> TestUser:
        return TestUser(key=key, username=username, password="", email=email, first_name="", last_name="", sub="",
                        canary="")

    users = [user("user1", "user1"), user("user2", ""), user("user3", "alice"), user("user4", "user4", "d@x.org")]
    assert [u.key for u in af.known_accounts(users)] == ["user3", "user4"]


# -- sending an account flow's request as its operation declares it ----------------------------------------------
class RecordingClient:
    """Stands in for TargetClient.send_url: records the keyword arguments it was called with."""

    send_as = "bearer"

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def send_url(self, method: str, url: str, *, params: Any = None, data: Any = None, json: Any = None,
                 files: Any = None, headers: Any = None) -> tuple[Any, Any, float]:
        from fixtures.engine.http import Exchange

        self.calls.append({"data": data, "json": json, **({"files": files} if files is not None else {})})
        return object(), Exchange("request", "response", 200), 0.01


def context_with(client: RecordingClient) -> Any:
    from types import SimpleNamespace

    from fixtures.engine.context import CheckContext

    harness = SimpleNamespace(client=client, env=SimpleNamespace(keycloak_url=""),
                              identity=SimpleNamespace(can=lambda capability: False))
    return CheckContext(harness, "account_existence_leak")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("media_type", "expected"),
    [
        (FORM, {"data": {"username": "a@x.org", "password": "pw"}, "json": None}),
        (JSON, {"data": None, "json": {"username": "a@x.org", "password": "pw"}}),
        (None, {"data": None, "json": {"username": "a@x.org", "password": "pw"}}),
    ],
)
def test_account_flow_bodies_travel_as_the_operation_declares(media_type: str | None,
                                                              expected: dict[str, Any]) -> None:
    client = RecordingClient()
    context_with(client).send_url("POST", "http://127.0.0.1:1/token", body={"username": "a@x.org", "password": "pw"},
                                  media_type=media_type)
    assert client.calls == [expected]


def test_a_multipart_body_travels_as_multipart_fields_not_as_json() -> None:
    client = RecordingClient()
    context_with(client).send_url("POST", "http://127.0.0.1:1/signup", body={"email": "a@x.org"},
                                  media_type=MULTIPART)
    assert client.calls == [{"data": None, "json": None, "files": {"email": (None, "a@x.org")}}]


def test_without_keycloak_no_realm_settings_are_asked_for() -> None:
    from fixtures.engine.checks import CheckError

    ctx = context_with(RecordingClient())
    assert ctx.realm_settings() == {}
    assert not ctx.keycloak_admin
    with pytest.raises(CheckError, match="admin API is not available"):
        _ = ctx.idp


# -- user lookups -----------------------------------------------------------------------------------------------
def _string_param(name: str, location: str = "path") -> Parameter:
    return Parameter(name, location, location == "path", {"type": "string"})


def test_user_lookups_by_last_path_segment_or_query_are_discovered_public_or_signed_in() -> None:
    public = operation("GET", "/users/{username}", parameters=(_string_param("username"),))
    by_mail = operation("GET", "/api/members", parameters=(_string_param("email", "query"),), needs_auth=True)
    flows = discovered(public, by_mail)
    assert {label: flow.kind for label, flow in flows.items()} == {
        "GET /users/{username}": "lookup", "GET /api/members": "lookup"}
    assert flows["GET /users/{username}"].fields == (af.AccountField("path", "username", "username"),)
    assert "anyone" in flows["GET /users/{username}"].reason
    assert "a signed-in user" in flows["GET /api/members"].reason


@pytest.mark.parametrize(
    ("method", "path", "param"),
    [
        ("GET", "/users/{username}/notes", "username"),  # something of the user, not the user
        ("GET", "/items/{email}", "email"),  # not a collection of users
        ("DELETE", "/users/{username}", "username"),  # not a lookup
        ("GET", "/users/{user_id}", "user_id"),  # an id, not a name the user chose
    ],
)
def test_what_is_no_user_lookup(method: str, path: str, param: str) -> None:
    assert discovered(operation(method, path, parameters=(_string_param(param),), needs_auth=True)) == {}


def test_a_lookup_can_be_named_in_the_profile() -> None:
    op = operation("GET", "/directory/{handle}", parameters=(_string_param("handle"),))
    flows = discovered(op, lookup=["GET /directory/{handle}"], username_fields=["handle"])
    assert flows[op.label].kind == "lookup"
    assert af.case_label("lookup", af.EXISTING) == "existing user (another than the caller)"


def test_timing_plan_looks_after_blocks_and_shares_alpha_between_comparisons() -> None:
    settings = AccountTimingSettings(samples=30, min_samples=10, look_every=5, alpha=0.01)
    plan = af.timing_plan(settings, comparisons=2)
    assert plan.looks == (10, 15, 20, 25, 30)
    assert plan.alpha == pytest.approx(0.005)
    assert af.timing_plan(AccountTimingSettings(samples=30, min_samples=30)).looks == (30,)


def test_timing_min_samples_above_the_maximum_is_refused_when_set() -> None:
    with pytest.raises(ValueError, match=r"min_samples \(40\) must not exceed samples \(30\)"):
        AccountTimingSettings(samples=30, min_samples=40)
    assert af.timing_plan(AccountTimingSettings(samples=8)).looks == (8,)  # the default first look follows samples


def test_timing_look_keeps_a_decided_comparison_and_looks_again_at_the_others() -> None:
    settings = AccountTimingSettings(samples=30, min_samples=10, look_every=5, min_abs_diff_ms=20)
    plan = af.timing_plan(settings, comparisons=2)
    base = [0.100 + 0.001 * (i % 5) for i in range(10)]
    durations = {"existing": [v + 0.150 for v in base], "disabled": [v + 0.040 * (i % 2) for i, v in enumerate(base)],
                 "unknown": list(reversed(base))}
    first = af.timing_look(durations, settings, plan, 0, decided={})
    assert first["existing"].decision == "leak"
    assert first["disabled"].decision == "continue"
    durations = {case: values + values[:5] for case, values in durations.items()}
    second = af.timing_look(durations, settings, plan, 1, decided=first)
    assert second["existing"] is first["existing"]
    assert second["disabled"].rounds == 15


# -- password changes (idp_password_policy, behaviour) --------------------------------------------------------------
def changes(*ops: Operation, **settings: Any) -> dict[str, tuple[tuple[str, str], ...]]:
    return {flow.label: tuple((f.name, f.role) for f in flow.fields)
            for flow in af.password_changes(list(ops), AccountFlowSettings(**settings))}


def test_a_signed_in_change_of_ones_own_password_is_found_with_its_current_and_new_fields() -> None:
    with_current = operation("POST", "/v1/me/password", body=body("current_password", "new_password",
                                                                   "new_password_confirmation"), needs_auth=True)
    camel = dataclasses.replace(operation(
        "PATCH", "/api/users/{user_id}/credentials", body=body("oldPassword", "newPassword"),
        operation_id="changePassword", needs_auth=True,
        parameters=(Parameter("user_id", "path", True, {"type": "string"}),)), user_params=("user_id",))
    assert changes(with_current, CHANGE_PASSWORD, camel) == {
        "POST /v1/me/password": (("current_password", af.CURRENT_PASSWORD), ("new_password", af.PASSWORD),
                                 ("new_password_confirmation", af.PASSWORD)),
        "PUT /v1/me/password": (("password", af.PASSWORD),),
        "PATCH /api/users/{user_id}/credentials": (("oldPassword", af.CURRENT_PASSWORD), ("newPassword", af.PASSWORD)),
    }


def test_public_flows_objects_and_operations_without_a_new_password_are_no_password_change() -> None:
    reset = operation("POST", "/v1/auth/password-reset", body=body("email", "password"))  # public
    of_an_object = operation("PUT", "/v1/vaults/{vault_id}/password", body=body("password"), needs_auth=True)
    only_current = operation("POST", "/v1/me/password/verify", body=body("current_password"), needs_auth=True)
    no_word = operation("PUT", "/v1/me", body=body("display_name", "password"), needs_auth=True)
    assert changes(reset, of_an_object, only_current, no_word, LOGIN, REGISTER, NOTES) == {}
    assert changes(CHANGE_PASSWORD, discover="never") == {}


def test_the_profile_names_a_password_change_and_its_problems() -> None:
    named = af.password_changes([CHANGE_PASSWORD, NOTES], AccountFlowSettings(
        password_change=["POST /v1/notes", "POST /v1/gone"]))
    assert [(flow.label, flow.problem) for flow in named] == [
        ("POST /v1/notes", "`POST /v1/notes` has no body field for the new password (account_flows.password_fields)"),
        ("POST /v1/gone", "the profile names `POST /v1/gone` as a password change (account_flows.password_change), "
                          "but the OpenAPI document has no such operation")]


# -- the rounds of account_existence_leak ------------------------------------------------------------------------------
def test_parallel_rounds_send_the_cases_of_a_round_at_once_and_keep_their_order() -> None:
    cases = ("existing", "disabled", "unknown")
    together = threading.Barrier(len(cases), timeout=10)  # passes only when every case of the round is in flight
    sent: list[str] = []

    def send(case: str) -> str:
        together.wait()
        sent.append(case)
        return f"{case}-answer"

    rounds = list(leak.sample_rounds(send, cases, 2, parallel=True))
    assert rounds == [[f"{case}-answer" for case in cases]] * 2
    assert sorted(sent) == sorted(cases * 2)


def test_sequential_rounds_send_one_case_after_the_other() -> None:
    cases = ("existing", "unknown")
    in_flight = threading.Semaphore(1)
    order: list[str] = []

    def send(case: str) -> str:
        assert in_flight.acquire(blocking=False), "two samples at once"
        order.append(case)
        in_flight.release()
        return case

    assert list(leak.sample_rounds(send, cases, 3, parallel=False)) == [list(cases)] * 3
    assert order == list(cases) * 3


def test_a_skip_in_one_case_of_a_parallel_round_ends_the_rounds() -> None:
    def send(case: str) -> str:
        if case == "unknown":
            pytest.skip("rate limited")
        return case

    rounds = leak.sample_rounds(send, ("existing", "unknown"), 3, parallel=True)
    with pytest.raises(pytest.skip.Exception, match="rate limited"):
        next(rounds)


def test_a_change_of_ones_own_account_is_never_sampled_in_parallel() -> None:
    default, off = AccountFlowSettings(), AccountFlowSettings(parallel_cases=False)
    assert [leak.sends_cases_at_once(default, kind) for kind in ("login", "registration", "account_update")] == [
        True, True, False]
    assert not leak.sends_cases_at_once(off, "login")
