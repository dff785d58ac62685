"""The compose launcher's pure parts: the profile section, the env file, the labels override, reading `docker
compose ps`, and the check for Compose v2 (against stand-in `docker` commands). Nothing here needs an engine."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
import yaml

from fixtures.errors import BootError, ProfileError
from fixtures.target.launchers import make_launcher
from fixtures.target.launchers.compose import (
    ComposeLauncher,
    compose_version,
    env_file_line,
    labels_override,
    parse_ps,
    published_address,
)
from fixtures.target.launchers.containers import ContainersLauncher
from fixtures.target.profile import load_profile

PROJECT = Path(__file__).resolve().parents[2]

COMPOSE = """
name: t
environment: ci
launcher: containers
containers:
  compose:
    files: [compose.yaml]
    env:
      API_PORT: "{backend_port}"
    backend: {service: api, port: "{backend_port}"}
    keycloak: {service: sso, port: "8080"}
backend:
  ready_path: /health
keycloak:
  realm: r
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return path


# -- profile -------------------------------------------------------------------------------------------------------
def test_a_compose_profile_gets_the_compose_launcher(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, COMPOSE))
    assert profile.containers.compose is not None
    assert profile.containers.compose.backend.service == "api"
    launcher = make_launcher(profile, tmp_path / "work", "0123456789ab")
    assert isinstance(launcher, ComposeLauncher)
    assert launcher.project == "digasec-0123456789ab"


def test_a_profile_without_compose_keeps_the_single_containers_launcher(tmp_path: Path) -> None:
    single = "containers:\n  backend:\n    image: b:1\nbackend: {}\nkeycloak:\n  realm: r\n"
    text = COMPOSE.split("containers:")[0] + single
    assert isinstance(make_launcher(load_profile(write(tmp_path, text)), tmp_path), ContainersLauncher)


def test_settings_that_compose_would_ignore_are_an_error(tmp_path: Path) -> None:
    text = COMPOSE.replace("  compose:\n", "  backend:\n    image: b:1\n  compose:\n")
    text = text.replace("  ready_path: /health\n", "  command: [serve]\n")
    with pytest.raises(ProfileError) as caught:
        load_profile(write(tmp_path, text))
    assert "containers.backend.image" in str(caught.value)
    assert "backend.command" in str(caught.value)


def test_a_port_is_a_number_or_a_placeholder(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="neither a port number nor a placeholder"):
        load_profile(write(tmp_path, COMPOSE.replace('port: "8080"', 'port: "http"')))
    with pytest.raises(ProfileError, match="neither a port number"):
        load_profile(write(tmp_path, COMPOSE.replace('port: "8080"', 'port: "70000"')))


def test_compose_needs_at_least_one_file(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="files"):
        load_profile(write(tmp_path, COMPOSE.replace("files: [compose.yaml]", "files: []")))


def test_demo_compose_profile_scans_the_demo_like_the_process_profile() -> None:
    compose = load_profile(PROJECT / "profiles" / "demo-compose.yaml")
    process = load_profile(PROJECT / "profiles" / "demo.yaml")
    assert compose.containers.compose is not None
    assert all(compose.resolve_path(name).is_file() for name in compose.containers.compose.files)
    assert compose.keycloak.realm == process.keycloak.realm
    assert compose.identity == process.identity
    assert compose.auth == process.auth
    assert compose.checks == process.checks


def test_demo_compose_file_uses_only_variables_the_profile_sets() -> None:
    """Every required ${VARIABLE:?} of the demo's compose file is in the profile's env, so `up` cannot fail on one."""
    compose = load_profile(PROJECT / "profiles" / "demo-compose.yaml")
    assert compose.containers.compose is not None
    text = compose.resolve_path(compose.containers.compose.files[0]).read_text()
    required = set(re.findall(r"\$\{([A-Z_]+):\?\}", text))
    assert required
    assert required <= set(compose.containers.compose.env)


# -- env file and override -----------------------------------------------------------------------------------------
def test_env_file_lines_keep_dollars_literal() -> None:
    assert env_file_line("PASSWORD", "a$b{c}") == "PASSWORD='a$b{c}'"


@pytest.mark.parametrize(("key", "value"), [("1X", "v"), ("A-B", "v"), ("OK", "it's"), ("OK", "two\nlines")])
def test_env_file_lines_refuse_what_cannot_be_written_safely(key: str, value: str) -> None:
    with pytest.raises(ProfileError):
        env_file_line(key, value)


def test_labels_override_covers_services_and_the_projects_own_networks_and_volumes() -> None:
    config = {
        "services": {"api": {"image": "a"}, "db": {"image": "d"}},
        "networks": {"default": {"name": "p_default"}, "shared": {"external": True}},
        "volumes": {"data": {}, "old": {"external": True}},
    }
    override = labels_override(config, {"digasec.run-id": "r1"})
    assert override["services"] == {"api": {"labels": {"digasec.run-id": "r1"}},
                                    "db": {"labels": {"digasec.run-id": "r1"}}}
    assert override["networks"] == {"default": {"labels": {"digasec.run-id": "r1"}}}  # not the external one
    assert override["volumes"] == {"data": {"labels": {"digasec.run-id": "r1"}}}
    assert yaml.safe_load(yaml.safe_dump(override)) == override  # written as YAML, unchanged


def test_labels_override_of_a_project_with_neither_networks_nor_volumes() -> None:
    assert labels_override({"services": {"api": {}}}, {"k": "v"}) == {"services": {"api": {"labels": {"k": "v"}}}}


# -- docker compose ps ---------------------------------------------------------------------------------------------
def test_parse_ps_one_object_per_line_and_one_array() -> None:
    lines = '{"Service": "api", "State": "running"}\n{"Service": "db", "State": "exited"}\n'
    assert [row["Service"] for row in parse_ps(lines)] == ["api", "db"]
    assert [row["Service"] for row in parse_ps('[{"Service": "api"}, {"Service": "db"}]')] == ["api", "db"]
    assert parse_ps("\n") == []


def test_published_address_finds_the_host_port_of_a_container_port() -> None:
    publishers = [
        {"URL": "127.0.0.1", "TargetPort": 9000, "PublishedPort": 0, "Protocol": "tcp"},  # exposed only
        {"URL": "127.0.0.1", "TargetPort": 8080, "PublishedPort": 49153, "Protocol": "tcp"},
    ]
    assert published_address(publishers, 8080) == ("127.0.0.1", 49153)
    assert published_address(publishers, 9000) is None
    assert published_address([], 8080) is None  # host networking: nothing is published


# -- Compose v2 ----------------------------------------------------------------------------------------------------
def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """A stand-in `docker` first on PATH (only the CLI's answer is under test here)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text("#!/bin/sh\n" + script)
    docker.chmod(docker.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_compose_version_of_a_v2_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_docker(tmp_path, monkeypatch, 'echo "v2.40.3"\n')
    assert compose_version() == "v2.40.3"


def test_no_compose_plugin_says_how_to_get_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_docker(tmp_path, monkeypatch, "echo \"docker: 'compose' is not a docker command.\" >&2\nexit 1\n")
    with pytest.raises(BootError) as caught:
        compose_version()
    message = str(caught.value)
    assert "'compose' is not a docker command" in message
    assert "images/compose-plugin.sh" in message
    assert caught.value.exit_code == 3


def test_compose_v1_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_docker(tmp_path, monkeypatch, 'echo "1.29.2"\n')
    with pytest.raises(BootError, match="not available"):
        compose_version()
