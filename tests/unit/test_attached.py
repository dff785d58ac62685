"""Warm mode's state file and the attached launcher (fixtures/target/launchers/attached.py)."""

from __future__ import annotations

import contextlib
import http.server
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.errors import BootError
from fixtures.target.launchers import AdminCredentials, Environment, make_launcher
from fixtures.target.launchers.attached import AttachedLauncher, UpState, keep_up, read_state, state_path, write_state
from fixtures.target.launchers.process import process_start_time
from fixtures.target.profile import load_profile

PROFILE = """\
name: t
environment: ci
launcher: {launcher}
backend: {backend}
identity: {{provider: tokens, tokens: ["${{T1}}", "${{T2}}"]}}
"""
EXTERNAL_BACKEND = '{base_url: "http://127.0.0.1:9", ready_path: /ready}'
PROCESS_BACKEND = '{command: ["{python}", "-c", "pass"], ready_path: /ready}'


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DIGASEC_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("T1", "a")
    monkeypatch.setenv("T2", "b")


def _profile(tmp_path: Path, *, launcher: str = "process", backend: str = PROCESS_BACKEND) -> Path:
    path = tmp_path / "profile.yaml"
    path.write_text(PROFILE.format(launcher=launcher, backend=backend))
    return path


def _env(base_url: str = "http://127.0.0.1:9", run_dir: str = "/tmp/up-work") -> Environment:
    return Environment(base_url=base_url, openapi_source=f"{base_url}/openapi.json", keycloak_url="http://127.0.0.1:8",
                       realm="r", admin=AdminCredentials("digasec-admin", "s3cret"), run_dir=run_dir,
                       started=["keycloak", "backend"])


def _own_state(profile: Path, env: Environment) -> UpState:
    return UpState(os.getpid(), process_start_time(os.getpid()), str(profile), env)


@contextlib.contextmanager
def _backend(status: int) -> Iterator[str]:
    """A loopback server that answers every GET with `status`."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_state_path_is_keyed_by_the_profiles_absolute_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    profile = _profile(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert state_path("profile.yaml") == state_path(profile)
    assert state_path(profile).parent == tmp_path / "cache" / "up"
    assert len(state_path(profile).stem) == 16
    assert state_path(profile) != state_path(tmp_path / "other.yaml")


def test_state_round_trips_and_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    profile = _profile(tmp_path)
    path = state_path(profile)
    state = _own_state(profile, _env())
    write_state(path, state)
    assert read_state(path) == state
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [entry.name for entry in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_a_replaced_state_file_does_not_keep_a_wider_mode(tmp_path: Path) -> None:
    profile = _profile(tmp_path)
    path = state_path(profile)
    path.parent.mkdir(parents=True)
    path.write_text("{}")
    path.chmod(0o644)
    write_state(path, _own_state(profile, _env()))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_unreadable_state_is_none(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    assert read_state(path) is None
    path.write_text("{not json")
    assert read_state(path) is None
    path.write_text('{"pid": 1}')
    assert read_state(path) is None


def test_up_alive_needs_the_same_pid_and_start_time() -> None:
    env = _env()
    assert UpState(os.getpid(), process_start_time(os.getpid()), "p", env).up_alive()
    assert not UpState(os.getpid(), "1", "p", env).up_alive()  # a reused pid: another start time
    assert not UpState(os.getpid(), "", "p", env).up_alive()
    assert not UpState(2**22 + 7, "1", "p", env).up_alive()  # no such process


def test_make_launcher_attaches_whatever_the_profiles_launcher(tmp_path: Path) -> None:
    profile = load_profile(_profile(tmp_path))
    assert isinstance(make_launcher(profile, tmp_path, attach=True), AttachedLauncher)
    assert not isinstance(make_launcher(profile, tmp_path), AttachedLauncher)


def test_attach_without_a_running_up_says_to_start_it(tmp_path: Path) -> None:
    profile = load_profile(_profile(tmp_path))
    with pytest.raises(BootError, match=r"no running `digasec up`.*digasec up --profile"):
        AttachedLauncher(profile, tmp_path / "run").boot()


def test_attach_refuses_the_state_of_an_up_that_no_longer_runs(tmp_path: Path) -> None:
    profile = load_profile(_profile(tmp_path))
    path = state_path(profile.source)
    write_state(path, UpState(os.getpid(), "1", profile.source, _env()))  # this pid, another start: a reused pid
    with pytest.raises(BootError, match=r"no longer runs.*digasec up --profile"):
        AttachedLauncher(profile, tmp_path / "run").boot()
    assert not path.exists()  # the stale file is removed


def test_attach_returns_ups_environment_in_its_own_work_directory(tmp_path: Path) -> None:
    profile = load_profile(_profile(tmp_path))
    with _backend(200) as base_url:
        write_state(state_path(profile.source), _own_state(Path(profile.source), _env(base_url)))
        launcher = AttachedLauncher(profile, tmp_path / "run")
        env = launcher.boot()
    assert env.base_url == base_url
    assert env.admin == AdminCredentials("digasec-admin", "s3cret")
    assert env.keycloak_url == "http://127.0.0.1:8"
    assert env.run_dir == str(tmp_path / "run")  # never up's work directory: the run removes its own at the end
    assert env.started == []
    assert launcher.stop() == []


def test_attach_refuses_a_backend_that_is_not_ready(tmp_path: Path) -> None:
    profile = load_profile(_profile(tmp_path))
    with _backend(503) as base_url:
        write_state(state_path(profile.source), _own_state(Path(profile.source), _env(base_url)))
        with pytest.raises(BootError, match="answered 503"):
            AttachedLauncher(profile, tmp_path / "run").boot()


def test_up_refuses_a_profile_with_the_external_launcher(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = _profile(tmp_path, launcher="external", backend=EXTERNAL_BACKEND)
    assert keep_up(str(profile)) == 2
    assert "nothing to keep up" in capsys.readouterr().err
    assert not state_path(profile).exists()


def test_up_refuses_a_second_up_for_the_same_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profile = _profile(tmp_path)
    write_state(state_path(profile), _own_state(profile, _env()))
    assert keep_up(str(profile)) == 2
    assert "already runs" in capsys.readouterr().err
