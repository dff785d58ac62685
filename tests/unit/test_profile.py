from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.errors import ProfileError
from fixtures.profile import is_loopback_url, load_profile

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
