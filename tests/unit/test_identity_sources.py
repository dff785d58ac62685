"""Identity sources against a fake backend on loopback: sign-up and login in the encodings real backends use
(JSON, OAuth2 password form, multipart), tokens from JSON / header / cookie, sessions with CSRF, what a failed
registration or login says, and that nothing registered stays behind unlisted."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from fixtures.api.catalogue import build_catalogue
from fixtures.engine.harness import Harness, RunInfo
from fixtures.engine.http import Request
from fixtures.engine.redaction import Redactor
from fixtures.engine.seeder import Ledger
from fixtures.errors import IdentityError
from fixtures.identity import NO_CLIENTS, REGISTER, Identity, RunIdentity, make_source
from fixtures.identity.backend_api import BackendApiIdentity
from fixtures.target.launchers.base import Environment
from fixtures.target.profile import load_profile

FORM = "application/x-www-form-urlencoded"
RUN = RunIdentity("0123456789ab", "digasec-20260101000000-abcdef")


# -- a fake backend ----------------------------------------------------------------------------------------------
@dataclass
class Backend:
    """What the fake backend expects and what it saw."""

    login_type: str = FORM  # the media type its login accepts
    token_in: str = "json"  # json | header | cookie | session | empty
    scheme: str = "Bearer"  # the scheme it wants in Authorization (token_in json/header)
    csrf: bool = False
    accounts: dict[str, str] = field(default_factory=dict)  # e-mail -> password
    sessions: dict[str, str] = field(default_factory=dict)  # token / session id -> e-mail
    seen: list[dict[str, Any]] = field(default_factory=list)
    accepted_logins: int = 0  # > 0: registrations answer 202 and the account exists after this many login attempts
    pending: dict[str, list[Any]] = field(default_factory=dict)  # e-mail -> [password, login attempts left]


def body_of(handler: BaseHTTPRequestHandler) -> tuple[str, dict[str, str]]:
    raw = handler.rfile.read(int(handler.headers.get("content-length") or 0)).decode()
    kind = handler.headers.get("content-type", "")
    if "json" in kind:
        return "json", json.loads(raw or "{}")
    if "x-www-form-urlencoded" in kind:
        return FORM, {key: values[0] for key, values in parse_qs(raw).items()}
    if "multipart/form-data" in kind:
        fields = {}
        for part in raw.split("--")[1:]:
            if 'name="' in part:
                name = part.split('name="', 1)[1].split('"', 1)[0]
                fields[name] = part.split("\r\n\r\n", 1)[1].rsplit("\r\n", 1)[0]
        return "multipart/form-data", fields
    return kind, {}


def handler_for(state: Backend) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def answer(self, status: int, body: Any = None, headers: dict[str, str] | None = None,
                   cookies: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            for name, value in (cookies or {}).items():
                self.send_header("set-cookie", f"{name}={value}; Path=/; HttpOnly")
            self.end_headers()
            self.wfile.write(data)

        def who(self) -> str | None:
            if state.token_in == "session":
                cookie = SimpleCookie(self.headers.get("cookie", ""))
                sid = cookie["sid"].value if "sid" in cookie else ""
                if state.csrf and ("csrftoken" not in cookie
                                   or self.headers.get("x-csrf-token") != cookie["csrftoken"].value):
                    return None
                return state.sessions.get(sid)
            if state.token_in == "cookie":
                cookie = SimpleCookie(self.headers.get("cookie", ""))
                return state.sessions.get(cookie["auth"].value) if "auth" in cookie else None
            name = "x-auth-token" if state.token_in == "header" else "authorization"
            value = self.headers.get(name, "")
            if name == "authorization":
                scheme, _, value = value.partition(" ")
                if scheme != state.scheme:
                    return None
            return state.sessions.get(value)

        def do_POST(self) -> None:
            kind, body = body_of(self)
            state.seen.append({"path": self.path, "type": kind, "body": body, "headers": dict(self.headers)})
            if self.path == "/register":
                if kind != "json":
                    return self.answer(415, {"detail": "JSON only"})
                if body.get("email") in state.accounts:
                    return self.answer(409, {"detail": "already registered"})
                if state.accepted_logins:
                    state.pending[body["email"]] = [body["password"], state.accepted_logins]
                    return self.answer(202, {"detail": "check your inbox"})
                state.accounts[body["email"]] = body["password"]
                return self.answer(201, {"id": len(state.accounts)})
            if self.path == "/login":
                waiting = state.pending.get(body.get("username", ""))
                if waiting is not None:
                    waiting[1] -= 1
                    if waiting[1] <= 0:
                        state.accounts[body["username"]] = state.pending.pop(body["username"])[0]
                if kind != state.login_type:
                    return self.answer(422, {"detail": [{"loc": ["body", "username"], "msg": "field required"}]})
                if state.accounts.get(body.get("username", "")) != body.get("password"):
                    return self.answer(401, {"detail": "Incorrect username or password"})
                token = f"tok-{len(state.sessions)}-{body['username']}"
                state.sessions[token] = body["username"]
                csrf = {"csrftoken": f"csrf-{len(state.sessions)}-value"} if state.csrf else {}
                if state.token_in == "header":
                    return self.answer(200, {"ok": True}, headers={"X-Auth-Token": token})
                if state.token_in == "cookie":
                    return self.answer(200, {"ok": True}, cookies={"auth": token})
                if state.token_in == "session":
                    return self.answer(204, cookies={"sid": token, **csrf})
                if state.token_in == "empty":
                    return self.answer(200, {"access_token": "", "token_type": "bearer"})
                return self.answer(200, {"access_token": token, "token_type": "bearer"})
            return self.answer(404, {"detail": "not found"})

        def do_GET(self) -> None:
            state.seen.append({"path": self.path, "headers": dict(self.headers)})
            if self.path == "/health":
                return self.answer(200, {"ok": True})
            me = self.who()
            return self.answer(200, {"me": me}) if me else self.answer(401, {"detail": "not authenticated"})

        def do_DELETE(self) -> None:
            state.seen.append({"path": self.path, "headers": dict(self.headers)})
            me = self.who()
            if self.path != "/me" or me is None:
                return self.answer(401, {"detail": "not authenticated"})
            state.accounts.pop(me, None)
            return self.answer(204)

    return Handler


@pytest.fixture
def backend() -> Iterator[tuple[Backend, str]]:
    state = Backend()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def document(login_type: str = FORM, *, delete: bool = True) -> dict[str, Any]:
    def body(kind: str, required: list[str]) -> dict[str, Any]:
        properties = {name: {"type": "string"} for name in ("email", "password", "username", "full_name")}
        return {"required": True, "content": {kind: {"schema": {"type": "object", "required": required,
                                                                "properties": properties}}}}

    paths: dict[str, Any] = {
        "/register": {"post": {"requestBody": body("application/json", ["email", "password"]),
                               "responses": {"201": {"description": "ok"}}}},
        "/login": {"post": {"requestBody": body(login_type, ["username", "password"]),
                            "responses": {"200": {"description": "ok"}}}},
        "/whoami": {"get": {"responses": {"200": {"description": "ok"}}}},
    }
    if delete:
        paths["/me"] = {"delete": {"responses": {"204": {"description": "gone"}}}}
    return {"openapi": "3.0.3", "info": {"title": "fake", "version": "1"}, "paths": paths}


PROFILE = """
name: fake
environment: local
launcher: external
backend: {{base_url: "{base_url}"}}
checks: {{retries: 0}}
identity:
  provider: backend_api
  users: 2
  backend:
    registration: POST /register
    registration_body: {{email: "{{email}}", password: "{{password}}", full_name: "{{given_name}} {{family_name}}"}}
    login: POST /login
    login_body: {{username: "{{email}}", password: "{{password}}"}}
{extra}
"""


def source_for(tmp_path: Path, base_url: str, extra: str = "", *, login_type: str = FORM,
               delete: bool = True) -> BackendApiIdentity:
    lines = "\n".join(f"    {line}" for line in extra.strip().splitlines())
    if delete:
        lines += "\n    delete_account: DELETE /me"
    path = tmp_path / "profile.yaml"
    path.write_text(PROFILE.format(base_url=base_url, extra=lines))
    profile = load_profile(path)
    env = Environment(base_url=base_url, openapi_source="", keycloak_url="", realm="", admin=None,
                      run_dir=str(tmp_path))
    catalogue = build_catalogue(document(login_type, delete=delete), "x", public_operations=[], user_path_params=[])
    source = make_source(env, profile, RUN, Redactor(), catalogue=catalogue)
    assert isinstance(source, BackendApiIdentity)
    return source


def whoami(source: BackendApiIdentity, credential: str) -> httpx.Response:
    response, _ = source.client.send(Request("GET", "/whoami"), bearer=credential)
    assert response is not None
    return response


# -- encodings -----------------------------------------------------------------------------------------------------
def test_oauth2_password_form_login_with_the_readme_body(backend, tmp_path: Path) -> None:
    state, url = backend
    source = source_for(tmp_path, url)
    identity = source.provision()
    assert [user.key for user in identity.users] == ["user1", "user2"]
    assert identity.can(REGISTER)
    logins = [seen for seen in state.seen if seen["path"] == "/login"]
    assert logins[0]["type"] == FORM
    assert logins[0]["body"]["username"] == identity.users[0].email
    assert [seen["type"] for seen in state.seen if seen["path"] == "/register"] == ["json", "json"]
    credential, _ = source.login(identity.users[0], "")
    assert whoami(source, credential).json() == {"me": identity.users[0].email}
    assert source.token_issuer == "the backend itself (POST /login)"
    assert source.cleanup() == []
    assert state.accounts == {}


def test_an_account_accepted_with_202_is_logged_in_once_it_exists(backend, tmp_path: Path, monkeypatch) -> None:
    """A registration answered 202 Accepted may create the account later: the first login is repeated."""
    monkeypatch.setattr("fixtures.identity.backend_api.ACCEPTED_LOGIN_PAUSES_S", (0.0, 0.0, 0.0))
    state, url = backend
    state.accepted_logins = 3
    source = source_for(tmp_path, url)
    identity = source.provision()
    assert [user.key for user in identity.users] == ["user1", "user2"]
    assert len([seen for seen in state.seen if seen["path"] == "/login"]) == 6
    state.accepted_logins = 5  # never there within the pauses: the last refusal counts
    with pytest.raises(IdentityError, match="logging in as"):
        source.register_with("user3", {})
    source.cleanup()


def test_json_login_is_sent_as_json(backend, tmp_path: Path) -> None:
    state, url = backend
    state.login_type = "json"
    source = source_for(tmp_path, url, login_type="application/json")
    source.provision()
    assert {seen["type"] for seen in state.seen if seen["path"] == "/login"} == {"json"}
    source.cleanup()


def test_multipart_override(backend, tmp_path: Path) -> None:
    state, url = backend
    state.login_type = "multipart/form-data"
    source = source_for(tmp_path, url, "login_content_type: multipart")
    source.provision()
    login = next(seen for seen in state.seen if seen["path"] == "/login")
    assert login["type"] == "multipart/form-data"
    assert set(login["body"]) == {"username", "password"}
    source.cleanup()


# -- credentials ---------------------------------------------------------------------------------------------------
def test_token_header_sent_as_header(backend, tmp_path: Path) -> None:
    state, url = backend
    state.token_in = "header"
    source = source_for(tmp_path, url, "token_header: X-Auth-Token\nsend_as: header:X-Auth-Token")
    identity = source.provision()
    credential, _ = source.login(identity.users[1], "")
    assert source.headers(credential) == {"X-Auth-Token": credential}
    assert whoami(source, credential).json()["me"] == identity.users[1].email
    source.cleanup()


def test_header_with_a_scheme(backend, tmp_path: Path) -> None:
    state, url = backend
    state.scheme = "Token"
    source = source_for(tmp_path, url, "send_as: header:Authorization:Token")
    identity = source.provision()
    credential, _ = source.login(identity.users[0], "")
    assert source.headers(credential) == {"Authorization": f"Token {credential}"}
    assert whoami(source, credential).status_code == 200
    source.cleanup()


def test_token_cookie_sent_as_cookie(backend, tmp_path: Path) -> None:
    state, url = backend
    state.token_in = "cookie"
    source = source_for(tmp_path, url, "token_cookie: auth\nsend_as: cookie:auth")
    identity = source.provision()
    credential, _ = source.login(identity.users[0], "")
    assert whoami(source, credential).status_code == 200
    source.cleanup()


def test_session_cookies_with_csrf_from_a_cookie(backend, tmp_path: Path) -> None:
    state, url = backend
    state.token_in, state.csrf = "session", True
    source = source_for(tmp_path, url, "send_as: session\ncsrf: {cookie: csrftoken, header: X-CSRF-Token}")
    identity = source.provision()
    credential, _ = source.login(identity.users[0], "")
    assert "sid=" in credential
    assert "csrftoken=" in credential
    headers = source.headers(credential)
    assert headers["Cookie"] == credential
    assert headers["X-CSRF-Token"].startswith("csrf-")
    assert whoami(source, credential).json()["me"] == identity.users[0].email
    # without the CSRF header the fake backend refuses: the header is what makes it work
    response, _ = source.client.send(Request("GET", "/whoami", headers={"Cookie": credential}))
    assert response is not None
    assert response.status_code == 401
    assert source.cleanup() == []
    assert state.accounts == {}


def test_harness_client_sends_credentials_as_the_source_says(backend, tmp_path: Path) -> None:
    """The client the checks use (Harness.client) carries send_as and checks.retries: no `Authorization: Bearer`
    with send_as header:X-Auth-Token (the bug of issue 12)."""
    state, url = backend
    state.token_in = "header"
    source = source_for(tmp_path, url, "token_header: X-Auth-Token\nsend_as: header:X-Auth-Token")
    identity = source.provision()
    harness = Harness(source.profile, Environment(url, "", "", "", None, str(tmp_path)), identity,
                      build_catalogue(document(), "x", public_operations=[], user_path_params=[]), Ledger(),
                      RunInfo(id=RUN.id, started="", out_dir=str(tmp_path), tag=RUN.tag), Redactor(),
                      _source=source)
    token = harness.tokens.token(identity.users[0])
    assert harness.client.credentials(token) == {"X-Auth-Token": token}
    assert harness.credentials(identity.users[0]) == {"X-Auth-Token": token}
    assert harness.client.retries == 0
    response, exchange = harness.client.send(Request("GET", "/whoami"), bearer=token)
    assert response is not None
    assert response.status_code == 200
    assert "authorization" not in exchange.request.lower()
    record = harness.run_record()
    assert record["run_tag"] == RUN.tag
    assert record["target"]["token_issuer"] == "the backend itself (POST /login)"
    source.cleanup()


def test_worker_builds_its_source_without_provisioning(backend, tmp_path: Path) -> None:
    state, url = backend
    source = source_for(tmp_path, url)
    identity = source.provision()
    registrations = len([seen for seen in state.seen if seen["path"] == "/register"])
    worker = Harness(source.profile, Environment(url, "", "", "", None, str(tmp_path)),
                     Identity.from_dict(identity.to_dict()),
                     build_catalogue(document(), "x", public_operations=[], user_path_params=[]), Ledger(),
                     RunInfo(id=RUN.id, started="", out_dir=str(tmp_path), tag=RUN.tag), Redactor())
    assert worker.source is not source
    assert worker.source.name == "backend_api"
    token = worker.tokens.token(worker.identity.users[0])
    assert whoami(source, token).status_code == 200
    assert len([seen for seen in state.seen if seen["path"] == "/register"]) == registrations
    assert worker.remove_identities() == []  # a worker never removes the controller's users
    assert len(state.accounts) == 2
    source.cleanup()


# -- accounts of a check's own ---------------------------------------------------------------------------------------
def test_create_and_delete_an_account_of_a_checks_own(backend, tmp_path: Path) -> None:
    state, url = backend
    source = source_for(tmp_path, url)
    user = source.create_account("probe")
    assert user.username == f"{RUN.tag}-probe"
    assert user.email in state.accounts
    assert source.delete_account(user) is None
    assert user.email not in state.accounts
    with pytest.raises(IdentityError, match="disabled account needs Keycloak admin rights"):
        source.create_account("off", enabled=False)


def test_without_a_delete_operation_accounts_are_listed(backend, tmp_path: Path) -> None:
    _state, url = backend
    source = source_for(tmp_path, url, delete=False)
    user = source.create_account("probe")
    problem = source.delete_account(user)
    assert problem is not None
    assert "offers no deletion" in problem
    assert user.username in problem
    assert [p for p in source.cleanup() if user.username in p]


# -- bad input: what a failure says -------------------------------------------------------------------------------
def test_wrong_content_type_says_what_was_sent_and_removes_registered_accounts(backend, tmp_path: Path) -> None:
    state, url = backend
    source = source_for(tmp_path, url, "login_content_type: json")
    with pytest.raises(IdentityError) as info:
        source.provision()
    text = str(info.value)
    assert "HTTP 422" in text
    assert "the operation declares application/x-www-form-urlencoded; the body was sent as JSON" in text
    assert "login_content_type" in text
    assert "sent: POST /login" in text
    assert '"password":"<redacted:password:user1>"' in text  # what was sent, redacted
    assert "NOT removed" in text  # registered, but the login that deletion needs fails: listed
    assert f"{RUN.tag}-user1" in text
    assert len(state.accounts) == 1


def test_accounts_registered_before_a_failure_are_removed(backend, tmp_path: Path) -> None:
    state, url = backend
    state.accounts[f"{RUN.tag}-user2@example.org"] = "taken"
    source = source_for(tmp_path, url)
    with pytest.raises(IdentityError) as info:
        source.provision()
    text = str(info.value)
    assert "registering digasec-20260101000000-abcdef-user2 through POST /register" in text
    assert "HTTP 409" in text
    assert "the account exists already" in text
    assert f"the accounts registered before the failure were removed: {RUN.tag}-user1" in text
    assert list(state.accounts) == [f"{RUN.tag}-user2@example.org"]


def test_failed_login_without_deletion_lists_the_account(backend, tmp_path: Path) -> None:
    state, url = backend
    source = source_for(tmp_path, url, "login_content_type: json", delete=False)
    with pytest.raises(IdentityError) as info:
        source.provision()
    text = str(info.value)
    assert "NOT removed" in text
    assert f"{RUN.tag}-user1" in text
    assert len(state.accounts) == 1


def test_wrong_credentials_hint(backend, tmp_path: Path) -> None:
    state, url = backend
    source = source_for(tmp_path, url)
    user = source.create_account("probe")
    state.accounts[user.email] = "changed"
    with pytest.raises(IdentityError, match=r"HTTP 401[\s\S]*likely cause: 401: wrong credentials\?"):
        source.login(user, "")
    source.cleanup()


def test_missing_token_names_the_key_and_the_answer(backend, tmp_path: Path) -> None:
    _state, url = backend
    source = source_for(tmp_path, url, "token_json: data.token")
    with pytest.raises(IdentityError) as info:
        source.provision()
    text = str(info.value)
    assert "no token at token_json 'data.token': the answer has keys access_token, token_type" in text
    assert "identity.backend.token_json" in text
    assert info.value.exit_code == 3


def test_empty_token_is_refused(backend, tmp_path: Path) -> None:
    state, url = backend
    state.token_in = "empty"
    source = source_for(tmp_path, url)
    with pytest.raises(IdentityError, match=r"token_json 'access_token' \(identity.backend.token_json\) yields an "
                                            r"empty string"):
        source.provision()


def test_missing_header_lists_the_answers_headers(backend, tmp_path: Path) -> None:
    _state, url = backend
    source = source_for(tmp_path, url, "token_header: X-Auth-Token")
    with pytest.raises(IdentityError, match=r"no header 'X-Auth-Token' in the login answer.*content-type"):
        source.provision()


def test_session_without_cookies_says_what_to_change(backend, tmp_path: Path) -> None:
    _state, url = backend
    source = source_for(tmp_path, url, "send_as: session")
    with pytest.raises(IdentityError, match=r"'session', but the login answer .* set no cookie"):
        source.provision()


def test_unreachable_backend(tmp_path: Path) -> None:
    source = source_for(tmp_path, "http://127.0.0.1:9")
    with pytest.raises(IdentityError, match=r"no answer .* is the backend running at http://127\.0\.0\.1:9"):
        source.provision()


# -- the other sources -----------------------------------------------------------------------------------------------
def keycloak_profile(tmp_path: Path, identity: str) -> Any:
    path = tmp_path / "kc.yaml"
    path.write_text(f"""
name: kc
environment: local
launcher: external
backend: {{base_url: "http://127.0.0.1:9"}}
keycloak: {{url: "http://127.0.0.1:9", realm: diga, admin_username: a, admin_password: "${{TEST_KC_PW}}"}}
{identity}
""")
    return load_profile(path)


def test_keycloak_admin_source_contacts_nothing_until_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fixtures.target.launchers.base import AdminCredentials

    monkeypatch.setenv("TEST_KC_PW", "x")
    profile = keycloak_profile(tmp_path, "")
    env = Environment("http://127.0.0.1:9", "", "http://127.0.0.1:9", "diga", AdminCredentials("a", "x"),
                      str(tmp_path))
    source = make_source(env, profile, RUN, Redactor())
    assert source.name == "keycloak_admin"
    assert source.can(REGISTER)
    assert source.can("admin")
    assert source.token_issuer == "Keycloak realm diga at http://127.0.0.1:9"


def test_preissued_tokens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T1", "a.b.c")
    monkeypatch.setenv("T2", " ")
    path = tmp_path / "t.yaml"
    path.write_text('name: t\nenvironment: local\nlauncher: external\nbackend: {base_url: "http://127.0.0.1:9"}\n'
                    "identity:\n  provider: tokens\n  tokens: ['${T1}', '${T2}']\n")
    profile = load_profile(path)
    assert profile.keycloak is None
    env = Environment("http://127.0.0.1:9", "", "", "", None, str(tmp_path))
    source = make_source(env, profile, RUN, Redactor())
    assert source.token_issuer == "pre-issued tokens"
    assert not source.can(REGISTER)
    with pytest.raises(IdentityError, match=r"identity.tokens\[1\] is empty"):
        source.provision()
    with pytest.raises(IdentityError, match="cannot create accounts"):
        source.create_account("x")


# -- launchers start or contact no Keycloak the profile does not name ------------------------------------------------
def test_external_launcher_contacts_no_keycloak_without_a_keycloak_section(backend, tmp_path: Path) -> None:
    from fixtures.target.launchers import make_launcher

    state, url = backend
    source = source_for(tmp_path, url)
    assert source.profile.keycloak is None
    env = make_launcher(source.profile, tmp_path, RUN.id).boot()
    assert (env.keycloak_url, env.realm, env.admin) == ("", "", None)
    assert [seen["path"] for seen in state.seen] == ["/health"]


def test_containers_launcher_needs_no_keycloak_image_without_a_keycloak_section(tmp_path: Path) -> None:
    from fixtures.target.launchers.containers import ContainersLauncher

    path = tmp_path / "c.yaml"
    path.write_text(PROFILE.format(base_url="", extra="").replace("launcher: external", "launcher: containers")
                    .replace('backend: {base_url: ""}', "backend: {}")
                    + "containers:\n  backend: {image: 'own-login:1'}\n")
    launcher = ContainersLauncher(load_profile(path), tmp_path, RUN.id)
    assert launcher._images() == [("containers.backend.image", "own-login:1")]
    assert launcher._service_addresses()["realm"] == ""


def test_a_keycloak_login_form_that_posts_elsewhere_gets_no_password() -> None:
    from fixtures.identity.keycloak_accounts import form_target

    base = "http://127.0.0.1:8080/realms/r/protocol/openid-connect"
    page = f"{base}/auth?client_id=c"
    assert form_target(page, "/realms/r/login-actions/authenticate?x=1", base).startswith("http://127.0.0.1:8080/")
    for action in ("http://127.0.0.1:9999/realms/r/login", "https://127.0.0.1:8080/login", "http://evil.test/x"):
        with pytest.raises(IdentityError, match="no password is sent there"):
            form_target(page, action, base)


# -- users of further roles (identity.roles) ---------------------------------------------------------------------
def test_keycloak_admin_gives_each_further_role_a_user_with_its_realm_roles_and_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fixtures.target.launchers.base import AdminCredentials

    class FakeAdmin:
        def __init__(self) -> None:
            self.users: dict[str, dict[str, Any]] = {}
            self.assigned: dict[str, list[str]] = {}
            self.groups: dict[str, list[str]] = {}

        def create_user(self, payload: dict[str, Any]) -> str:
            user_id = f"id-{len(self.users) + 1}"
            self.users[user_id] = payload
            return user_id

        def get_realm_role(self, name: str) -> dict[str, str]:
            return {"name": name}

        def assign_realm_roles(self, user_id: str, roles: list[dict[str, str]]) -> None:
            self.assigned[user_id] = [role["name"] for role in roles]

        def get_group_by_path(self, path: str) -> dict[str, str]:
            return {"id": f"group{path}"}

        def group_user_add(self, user_id: str, group_id: str) -> None:
            self.groups.setdefault(user_id, []).append(group_id)

    monkeypatch.setenv("TEST_KC_PW", "x")
    profile = keycloak_profile(tmp_path, "identity:\n  realm_roles: [app-user]\n  roles:\n    - patient\n"
                                         "    - {name: staff, realm_roles: [staff], groups: [desk]}\n")
    env = Environment("http://127.0.0.1:9", "", "http://127.0.0.1:9", "diga", AdminCredentials("a", "x"),
                      str(tmp_path))
    source = make_source(env, profile, RUN, Redactor())
    fake = FakeAdmin()
    source._admin = fake  # type: ignore[attr-defined]
    monkeypatch.setattr(source, "_create_clients", lambda: NO_CLIENTS)
    monkeypatch.setattr(source, "_write_state", lambda: None)
    identity = source.provision()
    staff = identity.role_users["staff"]
    assert [user.key for user in staff] == ["staff-1"]
    assert fake.assigned[staff[0].sub] == ["app-user", "staff"]
    assert fake.groups[staff[0].sub] == ["group/desk"]
    assert all(fake.assigned[user.sub] == ["app-user"] for user in identity.users)


def test_preissued_tokens_per_role(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T1", "a.b.c")
    monkeypatch.setenv("T2", "d.e.f")
    monkeypatch.setenv("T3", "g.h.i")
    path = tmp_path / "t.yaml"
    path.write_text('name: t\nenvironment: local\nlauncher: external\nbackend: {base_url: "http://127.0.0.1:9"}\n'
                    "identity:\n  provider: tokens\n  tokens: ['${T1}', '${T2}']\n"
                    "  roles: [patient, {name: admin, tokens: ['${T3}']}]\n")
    env = Environment("http://127.0.0.1:9", "", "", "", None, str(tmp_path))
    identity = make_source(env, load_profile(path), RUN, Redactor()).provision()
    assert [user.key for user in identity.users] == ["user1", "user2"]
    assert [(user.key, user.preissued_token) for user in identity.role_users["admin"]] == [("admin-1", "g.h.i")]
    assert ("g.h.i", "token:admin-1") in identity.secrets()
