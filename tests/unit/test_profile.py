from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.errors import ProfileError
from fixtures.target.profile import is_loopback_url, load_profile

PROJECT = Path(__file__).resolve().parents[2]

EXTERNAL = """
name: t
environment: staging
launcher: external
backend:
  base_url: http://127.0.0.1:8000
keycloak:
  url: http://127.0.0.1:8080
  realm: r
  admin_username: admin
  admin_password: ${TEST_KC_PW}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["demo.yaml", "demo-secure.yaml"])
def test_bundled_profiles_are_valid(name: str) -> None:
    profile = load_profile(PROJECT / "profiles" / name)
    assert profile.launcher == "process"
    assert profile.resolve_path(profile.keycloak.realm_import or "").is_file()
    assert len(profile.sha256) == 64


def test_staging_template_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGASEC_KC_ADMIN_USER", "admin")
    monkeypatch.setenv("DIGASEC_KC_ADMIN_PASSWORD", "s3cret-value")
    profile = load_profile(PROJECT / "profiles" / "staging-template.yaml")
    assert profile.keycloak.admin_password == "s3cret-value"


def test_unknown_key_names_the_key_and_suggests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_KC_PW", "x")
    path = write(tmp_path, EXTERNAL.replace("  realm: r", "  relm: r"))
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    text = str(info.value)
    assert "unknown key 'keycloak.relm'" in text
    assert "did you mean 'realm'?" in text


def test_wrong_type_names_the_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_KC_PW", "x")
    with pytest.raises(ProfileError, match=r"identity\.users"):
        load_profile(write(tmp_path, EXTERNAL + "identity:\n  users: many\n"))


def test_malformed_yaml(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="not valid YAML"):
        load_profile(write(tmp_path, "name: [unclosed\n"))


def test_missing_environment_variable_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_KC_PW", raising=False)
    with pytest.raises(ProfileError, match="TEST_KC_PW, which is not set"):
        load_profile(write(tmp_path, EXTERNAL))


def test_literal_secret_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="literal secret"):
        load_profile(write(tmp_path, EXTERNAL.replace("${TEST_KC_PW}", "hunter2hunter2")))


def test_remote_target_needs_allow_remote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_KC_PW", "x")
    remote = EXTERNAL.replace("http://127.0.0.1:8000", "https://staging.example.org")
    with pytest.raises(ProfileError, match="not a loopback address"):
        load_profile(write(tmp_path, remote))
    assert load_profile(write(tmp_path, remote + "allow_remote: true\n")).allow_remote


def test_external_launcher_needs_urls(tmp_path: Path) -> None:
    text = "name: t\nenvironment: ci\nlauncher: external\nbackend: {}\nkeycloak: {realm: r}\n"
    with pytest.raises(ProfileError, match=r"needs backend\.base_url"):
        load_profile(write(tmp_path, text))


@pytest.mark.parametrize(
    ("url", "expected"),
    [("http://127.0.0.1:1", True), ("http://localhost", True), ("http://[::1]:8", True),
     ("http://10.0.0.1", False), ("https://example.org", False)],
)
def test_is_loopback_url(url: str, expected: bool) -> None:
    assert is_loopback_url(url) is expected


def test_environment_must_be_declared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_KC_PW", "x")
    with pytest.raises(ProfileError, match="missing key 'environment'"):
        load_profile(write(tmp_path, EXTERNAL.replace("environment: staging\n", "")))


def test_production_needs_read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_KC_PW", "x")
    production = EXTERNAL.replace("environment: staging", "environment: production")
    with pytest.raises(ProfileError, match="read_only: true"):
        load_profile(write(tmp_path, production))
    assert load_profile(write(tmp_path, production + "read_only: true\n")).read_only


def test_non_admin_identity_needs_no_admin_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T1", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
    text = EXTERNAL.replace("  admin_username: admin\n  admin_password: ${TEST_KC_PW}\n", "")
    text += "identity:\n  provider: tokens\n  tokens: ['${T1}', '${T1}']\n"
    assert load_profile(write(tmp_path, text)).identity.provider == "tokens"


def test_literal_token_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_KC_PW", "x")
    text = EXTERNAL + "identity:\n  provider: tokens\n  tokens: [abc.def.ghi, '${TEST_KC_PW}']\n"
    with pytest.raises(ProfileError, match=r"identity\.tokens\[0\] holds a literal secret"):
        load_profile(write(tmp_path, text))


# -- identity sources without Keycloak (issue 12) ------------------------------------------------------------------
OWN_LOGIN = """
name: own-login
environment: local
launcher: external
backend:
  base_url: http://127.0.0.1:8000
identity:
  provider: backend_api
  backend:
    registration: POST /v1/auth/register
    registration_body:
      {email: "{email}", password: "{password}", given_name: "{given_name}", family_name: "{family_name}"}
    login: POST /v1/auth/login
    login_body: {username: "{email}", password: "{password}"}
    token_json: access_token
"""


def test_backend_api_needs_no_keycloak_section(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, OWN_LOGIN))
    assert profile.keycloak is None
    assert not profile.uses_keycloak
    backend = profile.identity.backend
    assert backend is not None
    assert backend.content_type("login", "application/x-www-form-urlencoded") == "application/x-www-form-urlencoded"
    assert backend.content_type("login", None) == "application/json"


def test_backend_api_may_still_name_a_keycloak(tmp_path: Path) -> None:
    text = OWN_LOGIN + "keycloak: {url: 'http://127.0.0.1:8080', realm: r}\n"
    profile = load_profile(write(tmp_path, text))
    assert profile.keycloak is not None
    assert profile.keycloak.realm == "r"


@pytest.mark.parametrize("provider", ["keycloak_admin", "keycloak_accounts"])
def test_keycloak_sources_need_the_keycloak_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    provider: str) -> None:
    monkeypatch.setenv("TEST_PW", "x")
    account = "{username: a, password: '${TEST_PW}'}"
    accounts = f"  client_id: app\n  accounts: [{account}, {account}]\n"
    text = OWN_LOGIN.replace("provider: backend_api", f"provider: {provider}") + accounts
    with pytest.raises(ProfileError, match=rf"identity.provider '{provider}' .*needs a keycloak section.*backend_api"):
        load_profile(write(tmp_path, text))


def test_unknown_placeholder_names_it_and_lists_the_valid_ones(tmp_path: Path) -> None:
    text = OWN_LOGIN.replace('login_body: {username: "{email}"', 'login_body: {username: "{mail}"')
    with pytest.raises(ProfileError) as info:
        load_profile(write(tmp_path, text))
    message = str(info.value)
    assert "identity.backend.login_body" in message
    assert "unknown placeholder {mail}" in message
    assert "{username}, {email}, {password}, {given_name}, {family_name}, {phone}, {run_tag}" in message


def test_every_documented_placeholder_is_accepted(tmp_path: Path) -> None:
    from fixtures.target.profile import PLACEHOLDERS

    body = ", ".join(f'f{index}: "{{{name}}}"' for index, name in enumerate(PLACEHOLDERS))
    reset = f"password_reset: POST /reset\n    password_reset_body: {{{body}}}"
    text = OWN_LOGIN.replace("token_json: access_token", reset)
    backend = load_profile(write(tmp_path, text)).identity.backend
    assert backend is not None
    assert len(backend.password_reset_body) == len(PLACEHOLDERS)
    readme = (PROJECT / "README.md").read_text()
    assert all("{" + name + "}" in readme for name in PLACEHOLDERS)


@pytest.mark.parametrize(
    ("typo", "where", "meant"),
    [("tokn_json: x", "identity.backend", "token_json"),
     ("login_content_typ: form", "identity.backend", "login_content_type")],
)
def test_unknown_backend_key_gets_a_suggestion(tmp_path: Path, typo: str, where: str, meant: str) -> None:
    text = OWN_LOGIN + f"    {typo}\n"
    with pytest.raises(ProfileError, match=rf"unknown key '{where}\.\w+' in {where}: did you mean '{meant}'\?"):
        load_profile(write(tmp_path, text))


def test_unknown_recipe_key_gets_a_suggestion(tmp_path: Path) -> None:
    text = OWN_LOGIN + "recipes:\n  /v1/entries/{entry_id}: {create: 'POST /v1/entries', bdy: {}}\n"
    with pytest.raises(ProfileError, match=r"in recipes\./v1/entries/\{entry_id\}: did you mean 'body'\?"):
        load_profile(write(tmp_path, text))


@pytest.mark.parametrize("send_as", ["bearer", "session", "cookie:sid", "header:X-Auth-Token",
                                     "header:Authorization:Token"])
def test_send_as_forms(tmp_path: Path, send_as: str) -> None:
    backend = load_profile(write(tmp_path, OWN_LOGIN + f"    send_as: '{send_as}'\n")).identity.backend
    assert backend is not None
    assert backend.send_as == send_as


@pytest.mark.parametrize("bad", ["Bearer", "header:", "cookie", "header:A:B:C", "basic"])
def test_bad_send_as_says_what_is_allowed(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ProfileError, match=r"send_as.*header:NAME:SCHEME.*session"):
        load_profile(write(tmp_path, OWN_LOGIN + f"    send_as: '{bad}'\n"))


def test_content_type_keys(tmp_path: Path) -> None:
    text = OWN_LOGIN + "    login_content_type: form\n    registration_content_type: multipart\n"
    backend = load_profile(write(tmp_path, text)).identity.backend
    assert backend is not None
    assert backend.content_type("login", "application/json") == "application/x-www-form-urlencoded"
    assert backend.content_type("registration", None) == "multipart/form-data"
    with pytest.raises(ProfileError, match=r"login_content_type: .*use json, form, multipart or a media type"):
        load_profile(write(tmp_path, OWN_LOGIN + "    login_content_type: xml please\n"))


def test_csrf_needs_exactly_one_source(tmp_path: Path) -> None:
    ok = load_profile(write(tmp_path, OWN_LOGIN + "    csrf: {json: csrf_token, header: X-CSRF}\n"))
    assert ok.identity.backend is not None
    assert ok.identity.backend.csrf is not None
    assert ok.identity.backend.csrf.json_path == "csrf_token"
    with pytest.raises(ProfileError, match="exactly one place the CSRF token comes from"):
        load_profile(write(tmp_path, OWN_LOGIN + "    csrf: {cookie: a, response_header: B}\n"))
    with pytest.raises(ProfileError, match=r"unknown key 'identity.backend.csrf.cokie'.*did you mean 'cookie'"):
        load_profile(write(tmp_path, OWN_LOGIN + "    csrf: {cokie: a}\n"))


def test_compose_keycloak_service_only_with_a_keycloak(tmp_path: Path) -> None:
    compose = ("launcher: containers\ncontainers:\n  compose:\n    files: [c.yaml]\n"
               "    backend: {service: api, port: '8000'}\n")
    base = OWN_LOGIN.replace("launcher: external\n", "").replace("  base_url: http://127.0.0.1:8000\n", "  {}\n")
    profile = load_profile(write(tmp_path, base + compose))
    assert profile.containers.compose is not None
    assert profile.containers.compose.keycloak is None
    with pytest.raises(ProfileError, match=r"containers\.compose\.keycloak names a Keycloak service"):
        load_profile(write(tmp_path, base + compose + "    keycloak: {service: kc, port: '8080'}\n"))


def test_a_key_given_twice_is_an_error_naming_both_lines(tmp_path: Path) -> None:
    profile = tmp_path / "twice.yaml"
    profile.write_text(
        "name: x\nenvironment: ci\nlauncher: external\nread_only: true\nread_only: false\n"
        "backend: {base_url: 'http://127.0.0.1:1'}\nidentity: {provider: tokens, tokens: ['${A}', '${B}']}\n"
    )
    with pytest.raises(ProfileError, match=r"'read_only' is given twice \(lines 4 and 5\)"):
        load_profile(profile)


@pytest.mark.parametrize("ready_path", ["health", "@127.0.0.1:18081/health", "//evil/health", "http://x/health"])
def test_ready_path_must_be_a_path_on_the_backend(tmp_path: Path, ready_path: str, monkeypatch: pytest.MonkeyPatch
                                                   ) -> None:
    monkeypatch.setenv("A", "token-a")
    monkeypatch.setenv("B", "token-b")
    profile = tmp_path / "ready.yaml"
    profile.write_text(
        "name: x\nenvironment: ci\nlauncher: external\n"
        f"backend: {{base_url: 'http://127.0.0.1:1', ready_path: '{ready_path}'}}\n"
        "identity: {provider: tokens, tokens: ['${A}', '${B}']}\n"
    )
    with pytest.raises(ProfileError, match="not a path on the backend"):
        load_profile(profile)


@pytest.mark.parametrize("timeout", ["0", "-1"])
def test_timeouts_must_be_positive(tmp_path: Path, timeout: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("A", "token-a")
    monkeypatch.setenv("B", "token-b")
    profile = tmp_path / "timeout.yaml"
    profile.write_text(
        "name: x\nenvironment: ci\nlauncher: external\nbackend: {base_url: 'http://127.0.0.1:1'}\n"
        f"identity: {{provider: tokens, tokens: ['${{A}}', '${{B}}']}}\nchecks: {{request_timeout_s: {timeout}}}\n"
    )
    with pytest.raises(ProfileError, match="request_timeout_s"):
        load_profile(profile)


def test_an_absolute_openapi_file_is_read_from_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("A", "token-a")
    monkeypatch.setenv("B", "token-b")
    spec = tmp_path / "openapi.json"
    spec.write_text("{}")
    profile = tmp_path / "file.yaml"
    profile.write_text(
        "name: x\nenvironment: ci\nlauncher: external\n"
        f"backend: {{base_url: 'http://127.0.0.1:1', openapi: '{spec}'}}\n"
        "identity: {provider: tokens, tokens: ['${A}', '${B}']}\n"
    )
    assert load_profile(profile).openapi_source("http://127.0.0.1:1") == str(spec)
    spec.unlink()  # no such file: a path on the backend
    assert load_profile(profile).openapi_source("http://127.0.0.1:1/") == f"http://127.0.0.1:1{spec}"


# -- bounded requests and readiness (checks.request_deadline_s, checks.max_response_bytes, backend.ready_status) --
TOKENS = """
name: t
environment: ci
launcher: external
backend:
  base_url: http://127.0.0.1:8000
identity:
  provider: tokens
  tokens: ["${T1}", "${T2}"]
"""


@pytest.fixture
def tokens_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T1", "a.b.c")
    monkeypatch.setenv("T2", "d.e.f")


def test_request_limits_have_defaults(tmp_path: Path, tokens_env: None) -> None:
    checks = load_profile(write(tmp_path, TOKENS)).checks
    assert checks.request_deadline_s == 30
    assert checks.max_response_bytes == 10_000_000


@pytest.mark.parametrize("setting", ["request_deadline_s: 0", "request_deadline_s: -1", "max_response_bytes: 0",
                                     "request_timeout_s: 0"])
def test_request_limits_must_be_positive(tmp_path: Path, tokens_env: None, setting: str) -> None:
    with pytest.raises(ProfileError, match=f"checks.{setting.split(':')[0]}: .*greater than 0"):
        load_profile(write(tmp_path, TOKENS + f"checks:\n  {setting}\n"))


@pytest.mark.parametrize(("statuses", "up", "down"), [
    (None, [200, 204, 301, 401, 403, 404, 499], [500, 502, 503]),
    ("[200]", [200], [204, 401, 500]),
    ("['200-299', 401]", [200, 250, 299, 401], [300, 403, 503]),
])
def test_ready_status_decides_what_up_means(tmp_path: Path, tokens_env: None, statuses: str | None,
                                            up: list[int], down: list[int]) -> None:
    from fixtures.target.launchers.base import means_up

    text = TOKENS.replace("  base_url:", f"  ready_status: {statuses}\n  base_url:") if statuses else TOKENS
    ready_status = load_profile(write(tmp_path, text)).backend.ready_status
    assert all(means_up(status, ready_status) for status in up)
    assert not any(means_up(status, ready_status) for status in down)


@pytest.mark.parametrize("statuses", ["[]", "[99]", "[600]", "['300-200']", "['2xx']", "[true]"])
def test_ready_status_must_name_statuses(tmp_path: Path, tokens_env: None, statuses: str) -> None:
    text = TOKENS.replace("  base_url:", f"  ready_status: {statuses}\n  base_url:")
    with pytest.raises(ProfileError, match=r"backend\.ready_status"):
        load_profile(write(tmp_path, text))


@pytest.mark.parametrize("path", ["@127.0.0.1:18081/health", "health", "//10.0.0.1/health", "http://x/health",
                                  "/a@127.0.0.1:18081/health"])
def test_a_ready_path_that_is_not_a_path_is_refused(tmp_path: Path, tokens_env: None, path: str) -> None:
    text = TOKENS.replace("  base_url:", f"  ready_path: '{path}'\n  base_url:")
    with pytest.raises(ProfileError, match=r"backend\.ready_path"):
        load_profile(write(tmp_path, text))


def test_the_joined_readiness_url_stays_on_the_backend() -> None:
    from fixtures.target.launchers.base import readiness_url

    assert readiness_url("http://127.0.0.1:8000/", "/health?x=1") == "http://127.0.0.1:8000/health?x=1"
    assert readiness_url("http://127.0.0.1:8000/api", "/health") == "http://127.0.0.1:8000/api/health"
    with pytest.raises(ProfileError, match="another host or port"):
        readiness_url("http://127.0.0.1:8000", "@127.0.0.1:18081/health")


def test_idp_section_defaults_and_typos(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, OWN_LOGIN))
    assert profile.idp.password_min_length == 12
    assert profile.idp.max_access_token_s == 300
    with pytest.raises(ProfileError, match=r"unknown key 'idp.max_acess_token_s' in idp: did you mean "
                                           r"'max_access_token_s'\?"):
        load_profile(write(tmp_path, OWN_LOGIN + "idp: {max_acess_token_s: 60}\n"))


def test_idp_mfa_roles_must_be_roles_of_the_profile(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"idp.mfa_roles names 'therapist', which identity.roles does not name"):
        load_profile(write(tmp_path, OWN_LOGIN + "idp: {mfa_roles: [therapist]}\n"))


def test_realm_settings_need_a_realm_import_launcher(tmp_path: Path) -> None:
    text = OWN_LOGIN + "keycloak: {url: 'http://127.0.0.1:8080', realm: r, realm_settings: {eventsEnabled: true}}\n"
    with pytest.raises(ProfileError, match="launcher 'external' imports no realm"):
        load_profile(write(tmp_path, text))
