"""The containers launcher's pure parts: the profile section, placeholders, run ids, readiness of a port, the engine
check, and the image build script's apt-mirror discovery and input hashing. Nothing here needs a Docker engine."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from types import ModuleType

import pytest

from fixtures.errors import BootError, ProfileError
from fixtures.target.launchers import make_launcher
from fixtures.target.launchers.containers import (
    LABEL_PID,
    LABEL_PID_START,
    ContainersLauncher,
    default_keycloak_image,
    fill,
    owner_running,
    port_answers,
)
from fixtures.target.launchers.process import process_start_time
from fixtures.target.profile import load_profile

PROJECT = Path(__file__).resolve().parents[2]

CONTAINERS = """
name: t
environment: ci
launcher: containers
containers:
  backend:
    image: my/backend:1.2
backend:
  command: ["serve", "--port", "{port}"]
keycloak:
  realm: r
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return path


def load_build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("digasec_images_build", PROJECT / "images" / "build.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# -- profile -------------------------------------------------------------------------------------------------------
def test_demo_containers_profile_uses_the_images_the_build_script_makes() -> None:
    profile = load_profile(PROJECT / "profiles" / "demo-containers.yaml")
    build = load_build_script()
    assert profile.launcher == "containers"
    assert profile.containers.network == "host"
    assert profile.containers.keycloak.image == build.keycloak_tag(profile.keycloak.version)
    assert profile.containers.backend.image == build.BACKEND_TAG
    assert profile.resolve_path(profile.keycloak.realm_import or "").is_file()


def test_demo_containers_profile_scans_the_demo_like_the_process_profile() -> None:
    containers = load_profile(PROJECT / "profiles" / "demo-containers.yaml")
    process = load_profile(PROJECT / "profiles" / "demo.yaml")
    for key in ("KEYCLOAK_URL", "KEYCLOAK_REALM", "OIDC_AUDIENCE", "DEMO_FLAWS"):
        assert containers.backend.env[key] == process.backend.env[key]
    assert containers.keycloak == process.keycloak
    assert containers.identity == process.identity
    assert containers.auth == process.auth
    assert containers.checks == process.checks


def test_containers_launcher_needs_a_backend_image(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"containers\.backend\.image"):
        load_profile(write(tmp_path, CONTAINERS.replace("    image: my/backend:1.2\n", "    port: 8000\n")))


def test_containers_section_defaults(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, CONTAINERS))
    assert profile.containers.network == "host"
    assert profile.containers.keycloak.image is None
    assert ContainersLauncher(profile, tmp_path, "r1").keycloak_image == default_keycloak_image("26.7.3")
    assert isinstance(make_launcher(profile, tmp_path), ContainersLauncher)


def test_unknown_key_in_containers_section_suggests(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"unknown key 'containers\.backend\.imgae'.*did you mean 'image'"):
        load_profile(write(tmp_path, CONTAINERS.replace("image: my/backend", "imgae: my/backend")))


def test_network_mode_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"containers\.network"):
        load_profile(write(tmp_path, CONTAINERS.replace("containers:\n", "containers:\n  network: overlay\n")))


WITH_SERVICE = """
name: t
environment: ci
launcher: containers
containers:
  backend:
    image: my/backend:1.2
  services:
    NAME:
      image: digasec/postgres:15
      command: [postgres, -c, "listen_addresses={host}", -p, "{port}"]
      port: 5432
backend:
  env:
    DATABASE_URL: "postgresql://app@{postgres_host}:{postgres_port}/app"
keycloak:
  realm: r
"""


@pytest.mark.parametrize("name", ["Postgres", "keycloak", "backend", "1db", "my-db"])
def test_service_names_must_make_placeholders(tmp_path: Path, name: str) -> None:
    with pytest.raises(ProfileError, match="service name"):
        load_profile(write(tmp_path, WITH_SERVICE.replace("NAME", name)))


def test_a_service_section(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, WITH_SERVICE.replace("NAME", "postgres")))
    service = profile.containers.services["postgres"]
    assert service.port == 5432
    assert service.command == ["postgres", "-c", "listen_addresses={host}", "-p", "{port}"]
    assert service.ready_log is None


# -- placeholders and ids ------------------------------------------------------------------------------------------
def test_fill_names_the_unknown_placeholder() -> None:
    assert fill("{host}:{port}", {"host": "127.0.0.1", "port": "1234"}, "x") == "127.0.0.1:1234"
    with pytest.raises(ProfileError, match=r"backend\.command: '\{python\}' uses an unknown placeholder.*\{port\}"):
        fill("{python}", {"port": "1"}, "backend.command")


def test_the_run_id_is_handed_to_the_launcher(tmp_path: Path) -> None:
    profile = load_profile(PROJECT / "profiles" / "demo-containers.yaml")
    launcher = make_launcher(profile, tmp_path / "any-name", "0123456789ab")
    assert isinstance(launcher, ContainersLauncher)
    assert launcher.run_id == "0123456789ab"
    fresh = make_launcher(profile, tmp_path)
    assert isinstance(fresh, ContainersLauncher)
    assert len(fresh.run_id) == 12
    assert fresh.run_id != "0123456789ab"


def test_leftovers_belong_to_runs_whose_process_is_gone() -> None:
    me = str(os.getpid())
    assert owner_running({LABEL_PID: me, LABEL_PID_START: process_start_time(os.getpid())})
    assert owner_running({LABEL_PID: me})
    assert not owner_running({LABEL_PID: me, LABEL_PID_START: "1"})  # the pid was reused by another process
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not owner_running({LABEL_PID: str(child.pid)})
    assert not owner_running({})


# -- readiness of a port ---------------------------------------------------------------------------------------------
def _server(behaviour: str) -> tuple[socket.socket, int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def serve() -> None:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn, contextlib.suppress(OSError):
            if behaviour == "greet":
                conn.sendall(b"220 hello\r\n")
                conn.recv(1)
            elif behaviour == "wait":
                conn.recv(1)
            # "close": close at once, like a published port with nothing behind it

    threading.Thread(target=serve, daemon=True).start()
    return server, int(server.getsockname()[1])


@pytest.mark.parametrize(("behaviour", "ready"), [("greet", True), ("wait", True), ("close", False)])
def test_port_answers(behaviour: str, ready: bool) -> None:
    server, port = _server(behaviour)
    with server:
        assert port_answers(port) is ready


def test_port_answers_nothing_listening() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert port_answers(port) is False


# -- engine --------------------------------------------------------------------------------------------------------
def test_no_engine_is_a_boot_error_that_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    launcher = ContainersLauncher(load_profile(write(tmp_path, CONTAINERS)), tmp_path)
    with pytest.raises(BootError) as caught:
        launcher.boot()
    message = str(caught.value)
    assert "no Docker engine answers" in message
    assert f"unix://{tmp_path}/no-engine.sock" in message
    assert "dockerd --bridge=none" in message
    assert caught.value.exit_code == 3
    assert launcher.stop() == []


# -- the image build script ----------------------------------------------------------------------------------------
def test_mirror_from_deb822_sources(tmp_path: Path) -> None:
    build = load_build_script()
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\n# a comment\nURIs: http://mirror.invalid/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        "Types: deb\nURIs: http://mirror.invalid/debian-security\nSuites: bookworm-security\nComponents: main\n"
    )
    source = build.debian_mirror("bookworm", tmp_path)
    assert source.uri == "http://mirror.invalid/debian"
    assert source.signed_by == "/usr/share/keyrings/debian-archive-keyring.gpg"


def test_mirror_from_one_line_sources_skips_disabled_and_other_suites(tmp_path: Path) -> None:
    build = load_build_script()
    (tmp_path / "sources.list").write_text(
        "# deb http://commented.invalid/debian bookworm main\n"
        "deb-src http://src.invalid/debian bookworm main\n"
        "deb http://other.invalid/debian trixie main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://one.invalid/debian bookworm main contrib\n"
    )
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "off.sources").write_text(
        "Enabled: no\nTypes: deb\nURIs: http://disabled.invalid/debian\nSuites: bookworm\nComponents: main\n"
    )
    source = build.debian_mirror("bookworm", tmp_path)
    assert source.uri == "http://one.invalid/debian"
    assert source.signed_by == "/k.gpg"


def test_no_mirror_tells_how_to_pass_one(tmp_path: Path) -> None:
    build = load_build_script()
    (tmp_path / "sources.list").write_text("deb http://other.invalid/ubuntu noble main\n")
    with pytest.raises(SystemExit, match="--mirror URL"):
        build.debian_mirror("bookworm", tmp_path)


def test_inputs_hash_follows_content(tmp_path: Path) -> None:
    build = load_build_script()
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"junk")

    def digest() -> str:
        return str(build.Inputs("r").add_tree("demo", tmp_path, ignore=("__pycache__",)).hexdigest())

    first = digest()
    (tmp_path / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"other junk")
    assert digest() == first
    (tmp_path / "a.py").write_text("x = 2\n")
    assert digest() != first


def test_demo_requirements_cover_the_demo_extra() -> None:
    requirements = load_build_script().demo_requirements()
    assert {"fastapi>=0.110", "uvicorn>=0.29"} <= set(requirements)
    assert "httpx" in requirements
