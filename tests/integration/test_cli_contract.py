"""Exit codes and clean-up of `digasec run`: profile errors, unreachable targets, and an external target
whose realm must hold no test user or harness client after the run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from fixtures.identity import new_run_tag
from fixtures.target.launchers.base import Environment, free_port
from fixtures.target.launchers.keycloak import cache_dir
from tests.integration.conftest import PROJECT, Scan, Staging, run_cli

pytestmark = pytest.mark.integration


def test_profile_with_a_wrong_field_exits_2_and_names_it(tmp_path: Path) -> None:
    text = (PROJECT / "profiles" / "demo.yaml").read_text().replace("  realm: diga", "  relm: diga")
    profile = tmp_path / "typo.yaml"
    profile.write_text(text)
    scan = run_cli("run", "--profile", str(profile), out=tmp_path / "out")
    assert scan.exit_code == 2
    assert "unknown key 'keycloak.relm'" in scan.console
    assert "did you mean 'realm'?" in scan.console


def external_profile(tmp_path: Path, *, base_url: str, keycloak_url: str) -> Path:
    profile = tmp_path / "external.yaml"
    profile.write_text(f"""
name: unreachable
environment: ci
launcher: external
backend: {{base_url: "{base_url}"}}
keycloak: {{url: "{keycloak_url}", realm: diga, admin_username: a, admin_password: "${{TEST_KC_ADMIN_PASSWORD}}"}}
""")
    return profile


def test_unreachable_target_exits_3_and_says_what(tmp_path: Path) -> None:
    port = free_port()
    profile = external_profile(tmp_path, base_url=f"http://127.0.0.1:{port}", keycloak_url=f"http://127.0.0.1:{port}")
    scan = run_cli("run", "--profile", str(profile), out=tmp_path / "out", env={"TEST_KC_ADMIN_PASSWORD": "b"})
    assert scan.exit_code == 3, scan.console
    assert f"the backend (backend.base_url) is unreachable at http://127.0.0.1:{port}/health" in scan.console


def admin_of(env: Environment):
    from keycloak import KeycloakAdmin

    assert env.admin is not None
    return KeycloakAdmin(server_url=f"{env.keycloak_url}/", username=env.admin.username,
                         password=env.admin.password, realm_name=env.realm, user_realm_name="master")


def harness_leftovers(env: Environment) -> list[str]:
    admin = admin_of(env)
    users = [u["username"] for u in admin.get_users({"search": "digasec-"}) if u["username"].startswith("digasec-")]
    clients = [c["clientId"] for c in admin.get_clients() if c["clientId"].startswith("digasec-")]
    return users + clients


def auth_scan(staging: Staging, tmp_path: Path, *, flawed: bool, identity: str = "") -> Scan:
    """A scan limited to the authentication checks: the subject here is the run's clean-up, not the verdicts (the
    expired-token variant is left out: it waits for its first token's exp, see test_authentication_e2e)."""
    return run_cli("run", "--profile", str(staging.profile(tmp_path, flawed=flawed, identity=identity)), "--", "-k",
                   "unauthenticated_access or (invalid_token and not expired)", out=tmp_path / "out",
                   env=staging.credentials())


ROLES_IDENTITY = """identity:
  users: 2
  audience: diga-api
  roles:
    - patient
    - {name: therapist, realm_roles: [therapist]}
    - {name: admin, realm_roles: [admin]}
"""


def test_external_run_leaves_no_user_or_client(staging: Staging, tmp_path: Path) -> None:
    """Also the users keycloak_admin creates for the further roles, with the demo realm's realm roles."""
    scan = auth_scan(staging, tmp_path, flawed=False, identity=ROLES_IDENTITY)
    assert scan.exit_code == 0, scan.console[-3000:]
    assert harness_leftovers(staging.env) == []
    assert scan.findings["run"]["users"] == 2


def test_flawed_external_run_exits_1_and_leaves_nothing(staging: Staging, tmp_path: Path) -> None:
    scan = auth_scan(staging, tmp_path, flawed=True)
    assert scan.exit_code == 1, scan.console[-3000:]
    assert harness_leftovers(staging.env) == []
    assert scan.findings["run"]["cleanup_problems"] == []


def test_leftovers_of_a_killed_run_are_removed(staging: Staging, tmp_path: Path) -> None:
    tag = new_run_tag()
    admin = admin_of(staging.env)
    admin.create_user({"username": f"{tag}-user1", "enabled": True})
    admin.create_client({"clientId": tag, "publicClient": True})
    state = cache_dir() / "runs" / f"{tag}.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    dead_pid = 2**22 + 12345  # above the default pid_max: no such process
    state.write_text(json.dumps({"pid": dead_pid, "keycloak_url": staging.env.keycloak_url, "realm": "diga"}))
    assert len(harness_leftovers(staging.env)) == 2
    scan = auth_scan(staging, tmp_path, flawed=False)
    assert scan.exit_code == 0, scan.console[-3000:]
    assert harness_leftovers(staging.env) == []
    assert not state.exists()


def test_wrong_admin_credentials_exit_3(staging: Staging, tmp_path: Path) -> None:
    scan = run_cli("run", "--profile", str(staging.profile(tmp_path, flawed=False)), out=tmp_path / "out",
                   env={"TEST_KC_ADMIN": "nobody", "TEST_KC_ADMIN_PASSWORD": "wrong-password-123"})
    assert scan.exit_code == 3, scan.console[-2000:]
    assert "admin_username / admin_password" in scan.console
    assert "wrong-password-123" not in scan.console


def test_keycloak_that_cannot_start_exits_3_with_its_log_tail(tmp_path: Path) -> None:
    broken_realm = tmp_path / "broken-realm.json"
    broken_realm.write_text('{"realm": "diga", "enabled": true, "clients": [{"clientId": ')
    data = yaml.safe_load((PROJECT / "profiles" / "demo.yaml").read_text())
    data["keycloak"]["realm_import"] = str(broken_realm)
    data["backend"]["workdir"] = str(PROJECT)
    profile = tmp_path / "broken.yaml"
    # with realm settings to lay over it, the harness reads the file first: a profile error, before any boot
    assert data["keycloak"].get("realm_settings"), "the demo profile lays settings over its realm"
    profile.write_text(yaml.safe_dump(data))
    scan = run_cli("run", "--profile", str(profile), out=tmp_path / "overlaid")
    assert scan.exit_code == 2, scan.console[-3000:]
    assert "is not a readable realm file" in scan.console
    # without them Keycloak itself reads it, and does not start
    del data["keycloak"]["realm_settings"]
    profile.write_text(yaml.safe_dump(data))
    scan = run_cli("run", "--profile", str(profile), out=tmp_path / "out")
    assert scan.exit_code == 3, scan.console[-3000:]
    assert "Keycloak 26" in scan.console
    assert "last lines of the log" in scan.console


def test_read_only_profile_changes_nothing(staging: Staging, tmp_path: Path) -> None:
    profile = staging.profile(tmp_path, flawed=True, extra="read_only: true\n")
    scan = run_cli("run", "--profile", str(profile), "--", "-k", "unauthenticated_access or cross_user",
                   out=tmp_path / "out", env=staging.credentials())
    assert scan.exit_code in (0, 1), scan.console[-3000:]
    assert scan.findings["run"]["seeded_objects"] == 0
    changing = [r for r in scan.results if r["method"] not in ("GET", "HEAD", "OPTIONS", "-")]
    assert changing
    assert all(r["outcome"] == "skip" and "read_only: true" in r["reason"] for r in changing)
    assert harness_leftovers(staging.env) == []


def test_keycloak_on_a_taken_port_fails_with_its_log_tail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The launcher picks free ports, but another program can take one first: Keycloak's own error is shown."""
    import socket

    from fixtures.errors import BootError
    from fixtures.target.launchers import process
    from fixtures.target.launchers.process import ProcessLauncher
    from fixtures.target.profile import load_profile

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setattr(process, "free_port", lambda: port)
        launcher = ProcessLauncher(load_profile(PROJECT / "profiles" / "demo-secure.yaml"), tmp_path)
        with pytest.raises(BootError) as info:
            launcher.boot()
    message = str(info.value)
    assert "Keycloak 26" in message
    assert "last lines of the log" in message
    assert launcher.processes == []
