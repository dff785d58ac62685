"""The compose launcher end to end: a real Docker engine, Compose v2 (images/compose-plugin.sh) and the locally
built images (images/build.sh).

The demo scan through profiles/demo-compose.yaml must give the same (check, method, path, outcome) set as the
process launcher's scan of profiles/demo.yaml; every run, also one that fails, is interrupted or killed, must leave
the engine as it found it: containers, networks and volumes.
"""

from __future__ import annotations

import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixtures.target.launchers.compose import ComposeLauncher
from fixtures.target.launchers.containers import LABEL_PID, LABEL_RUN, remove_leftovers
from fixtures.target.profile import load_profile
from tests.integration.conftest import (
    BACKEND_IMAGE,
    KEYCLOAK_IMAGE,
    PROJECT,
    TIMING_CHECK,
    Scan,
    left_behind,
    needs_docker,
    run_cli,
    start_run,
)

pytestmark = [pytest.mark.integration, needs_docker]

# The timing check is left out of the compose scan (conftest.TIMING_CHECK): every other check must agree with the
# process launcher item by item.


@pytest.fixture(scope="session")
def compose_engine(engine: Any) -> Any:
    """The engine, and Compose v2 in front of it (else the tests fail and say how to get it)."""
    done = subprocess.run(["docker", "compose", "version", "--short"], capture_output=True, text=True, check=False)
    if done.returncode != 0 or not done.stdout.startswith(("2.", "v2.")):
        pytest.fail(f"`docker compose` v2 is not available ({(done.stderr or done.stdout).strip()}): run "
                    "images/compose-plugin.sh")
    return engine


def engine_state(client: Any) -> tuple[set[str], set[str], set[str]]:
    """Container ids, network ids and volume names, as `docker ps -a`, `network ls` and `volume ls` show them."""
    return ({c.id for c in client.containers.list(all=True, sparse=True)}, {n.id for n in client.networks.list()},
            {v.name for v in client.volumes.list()})


@dataclass
class ComposeScan:
    scan: Scan
    before: tuple[set[str], set[str], set[str]]
    after: tuple[set[str], set[str], set[str]]


@pytest.fixture(scope="session")
def compose_scan(compose_engine: Any, tmp_path_factory: pytest.TempPathFactory) -> ComposeScan:
    before = engine_state(compose_engine)
    secrets_log = tmp_path_factory.mktemp("compose-secrets") / "secrets.jsonl"
    scan = run_cli("run", "--profile", "profiles/demo-compose.yaml", "--", "-k", f"not {TIMING_CHECK}",
                   out=tmp_path_factory.mktemp("compose"), env={"DIGASEC_SECRETS_LOG": str(secrets_log)})
    scan.secrets_log = secrets_log
    return ComposeScan(scan, before, engine_state(compose_engine))


# A compose project on a network of its own: the harness reaches the backend and Keycloak through ports published
# on 127.0.0.1; the backend fetches Keycloak's keys by service name; the database file lives in a named volume.
BRIDGE_COMPOSE = f"""
services:
  sso:
    image: {KEYCLOAK_IMAGE}
    command: ["start", "--optimized", "--cache=local", "--http-enabled=true", "--http-port=8080",
              "--hostname=http://127.0.0.1:${{SSO_PORT:?}}", "--hostname-backchannel-dynamic=true",
              "--import-realm", "${{SSO_EXTRA_ARG:---log-level=info}}"]
    environment:
      KC_BOOTSTRAP_ADMIN_USERNAME: ${{SSO_ADMIN:?}}
      KC_BOOTSTRAP_ADMIN_PASSWORD: ${{SSO_ADMIN_PASSWORD:?}}
    ports: ["127.0.0.1:${{SSO_PORT:?}}:8080"]
    volumes: ["{PROJECT / 'demo' / 'realm.json'}:/opt/keycloak/data/import/realm.json:ro"]
    networks: [inner]
  api:
    image: {BACKEND_IMAGE}
    command: ["python", "-m", "demo", "--host", "0.0.0.0", "--port", "8000"]
    environment:
      KEYCLOAK_URL: http://127.0.0.1:${{SSO_PORT:?}}
      KEYCLOAK_INTERNAL_URL: http://sso:8080
      KEYCLOAK_REALM: diga
      DEMO_FLAWS: all
    ports: ["127.0.0.1::8000"]
    volumes: ["api-data:/data"]
    networks: [inner]
networks:
  inner: {{}}
volumes:
  api-data: {{}}
"""


def bridge_profile(tmp_path: Path, *, extra_env: str = "") -> Path:
    (tmp_path / "compose.yaml").write_text(BRIDGE_COMPOSE)
    path = tmp_path / "compose-profile.yaml"
    path.write_text(f"""
name: compose launcher test (own network)
environment: ci
launcher: containers
containers:
  compose:
    files: [compose.yaml]
    env:
      SSO_PORT: "{{keycloak_port}}"
      SSO_ADMIN: "{{keycloak_admin_user}}"
      SSO_ADMIN_PASSWORD: "{{keycloak_admin_password}}"
{extra_env}
    backend: {{service: api, port: "8000"}}
    keycloak: {{service: sso, port: "8080"}}
backend:
  ready_path: /health
  openapi: /openapi.json
keycloak:
  realm: diga
  start_timeout_s: 180
identity:
  users: 2
  audience: diga-api
""")
    return path


# -- the demo scan -------------------------------------------------------------------------------------------------
def test_same_outcomes_as_the_process_launcher(compose_scan: ComposeScan, demo_scan: Scan) -> None:
    scan = compose_scan.scan
    assert scan.exit_code == demo_scan.exit_code == 1, scan.console[-3000:]
    # the compose file imports demo/realm.json as it is; the process demo lays its lax realm settings over it
    checks = {r["check"] for r in scan.results if not r["check"].startswith("idp_")}
    assert TIMING_CHECK not in checks
    assert {"unauthenticated_access", "invalid_token", "cross_user_read", "account_existence_leak"} <= checks
    compose, process = scan.outcomes(*checks), demo_scan.outcomes(*checks)
    assert compose == process, (
        f"only in compose: {sorted(compose - process)[:20]}\nonly in process: {sorted(process - compose)[:20]}"
    )
    target = scan.findings["run"]["target"]
    assert target["base_url"].startswith("http://127.0.0.1:")
    assert target["keycloak_version"] == "26.7.3"


def test_the_scan_leaves_no_container_network_or_volume_behind(compose_scan: ComposeScan) -> None:
    assert compose_scan.scan.exit_code in (0, 1), compose_scan.scan.console[-3000:]
    assert left_behind(compose_scan.before, compose_scan.after) == set()


def test_the_random_admin_password_reaches_no_output(compose_scan: ComposeScan) -> None:
    secrets = compose_scan.scan.secrets()
    assert "keycloak-admin-password" in {entry["label"].split(":")[0] for entry in secrets}
    texts = {"console": compose_scan.scan.console}
    texts |= {str(p): p.read_text(errors="replace") for p in compose_scan.scan.out.rglob("*") if p.is_file()}
    for entry in secrets:
        for where, text in texts.items():
            assert entry["value"] not in text, f"{entry['label']} found in {where}"


# -- a project with a network of its own ---------------------------------------------------------------------------
def test_own_network_ports_on_loopback_labels_everywhere_and_teardown(compose_engine: Any, tmp_path: Path) -> None:
    before = engine_state(compose_engine)
    run_dir = tmp_path / "work"
    run_dir.mkdir()
    launcher = ComposeLauncher(load_profile(bridge_profile(tmp_path)), run_dir, "c0ffee000001")  # Harness.boot's run id
    try:
        env = launcher.boot()
        assert httpx.get(f"{env.base_url}/health", trust_env=False).status_code == 200
        discovery = httpx.get(f"{env.issuer}/.well-known/openid-configuration", trust_env=False).json()
        assert discovery["issuer"] == env.issuer  # the URL the harness uses is the one tokens carry
        mine = {"label": f"{LABEL_RUN}={launcher.run_id}"}
        containers = compose_engine.containers.list(filters=mine)
        assert {c.labels["com.docker.compose.service"] for c in containers} == {"sso", "api"}
        assert {c.labels["com.docker.compose.project"] for c in containers} == {"digasec-c0ffee000001"}
        for container in containers:
            bindings = [b for ports in container.attrs["NetworkSettings"]["Ports"].values() if ports for b in ports]
            assert bindings
            assert {b["HostIp"] for b in bindings} == {"127.0.0.1"}
        assert len(compose_engine.networks.list(filters=mine)) == 1  # `inner`, labelled by the override
        assert len(compose_engine.volumes.list(filters=mine)) == 1  # `api-data`
        # The backend reaches Keycloak by its service name on the project's network.
        api = next(c for c in containers if c.labels["com.docker.compose.service"] == "api")
        probe = ("import json, urllib.request; url = 'http://sso:8080/realms/diga/.well-known/openid-configuration'; "
                 "print(json.load(urllib.request.urlopen(url))['issuer'])")
        result = api.exec_run(["python", "-c", probe])
        assert result.exit_code == 0, result.output.decode()[-2000:]
        assert result.output.decode().strip() == env.issuer
    finally:
        assert launcher.stop() == []
    assert left_behind(before, engine_state(compose_engine)) == set()


# -- failures you can act on ---------------------------------------------------------------------------------------
def test_a_service_that_exits_stops_the_run_with_its_log_and_removes_everything(
    compose_engine: Any, tmp_path: Path
) -> None:
    before = engine_state(compose_engine)
    profile = bridge_profile(tmp_path, extra_env='      SSO_EXTRA_ARG: "--no-such-option"')
    scan = run_cli("run", "--profile", str(profile), out=tmp_path / "out", timeout=300)
    assert scan.exit_code == 3, scan.console[-3000:]
    assert "Keycloak (compose service 'sso', realm 'diga') exited during start-up" in scan.console
    assert "no-such-option" in scan.console.split("--- last lines of the log ---", 1)[1]
    assert "Traceback" not in scan.console
    assert left_behind(before, engine_state(compose_engine)) == set()


def test_a_service_name_the_compose_file_lacks_is_a_profile_error(compose_engine: Any, tmp_path: Path) -> None:
    before = engine_state(compose_engine)
    profile = bridge_profile(tmp_path)
    profile.write_text(profile.read_text().replace("service: api", "service: web"))
    scan = run_cli("run", "--profile", str(profile), out=tmp_path / "out", timeout=300)
    assert scan.exit_code == 2, scan.console[-3000:]
    assert "containers.compose.backend.service: 'web' is not a service of the compose file (services: api, sso)" \
        in scan.console
    assert left_behind(before, engine_state(compose_engine)) == set()


def test_missing_images_are_named_before_anything_starts(compose_engine: Any, tmp_path: Path) -> None:
    before = engine_state(compose_engine)
    profile = bridge_profile(tmp_path)
    compose_file = tmp_path / "compose.yaml"
    compose_file.write_text(compose_file.read_text().replace(BACKEND_IMAGE, "digasec/no-such-image:1"))
    scan = run_cli("run", "--profile", str(profile), out=tmp_path / "out", timeout=300)
    assert scan.exit_code == 3, scan.console[-3000:]
    assert "image(s) not in the Docker engine" in scan.console
    assert "digasec/no-such-image:1 (service api)" in scan.console
    assert left_behind(before, engine_state(compose_engine)) == set()


def test_without_compose_v2_the_run_exits_3_and_says_how_to_get_it(compose_engine: Any, tmp_path: Path) -> None:
    empty_config = tmp_path / "docker-config"
    empty_config.mkdir()
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, check=False,
                           env={"PATH": "/usr/local/bin:/usr/bin:/bin", "DOCKER_CONFIG": str(empty_config)})
    if probe.returncode == 0:
        pytest.skip("a system-wide Compose plugin is installed; it cannot be hidden from the docker CLI here")
    scan = run_cli("run", "--profile", "profiles/demo-compose.yaml", out=tmp_path / "out",
                   env={"DOCKER_CONFIG": str(empty_config)})
    assert scan.exit_code == 3, scan.console[-3000:]
    assert "`docker compose` (v2) is not available" in scan.console
    assert "images/compose-plugin.sh" in scan.console


def test_ctrl_c_during_boot_removes_the_project(compose_engine: Any, tmp_path: Path) -> None:
    before = engine_state(compose_engine)
    process = start_run(bridge_profile(tmp_path), tmp_path / "out", stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_containers(compose_engine, process)
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=120)[0]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode != 0, output[-3000:]
    assert left_behind(before, engine_state(compose_engine)) == set(), output[-3000:]


def test_a_killed_runs_project_is_removed_by_the_next_run(compose_engine: Any, tmp_path: Path) -> None:
    """SIGKILL leaves the project's containers, network and volume; the next run's clean-up finds them by label."""
    before = engine_state(compose_engine)
    process = start_run(bridge_profile(tmp_path), tmp_path / "out", stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
    try:
        wait_for_containers(compose_engine, process)
    finally:
        process.kill()
        process.wait()
    left = compose_engine.containers.list(all=True, filters={"label": f"{LABEL_PID}={process.pid}"},
                                          sparse=True)
    assert left, "the killed run left nothing to clean up: the test proves nothing"
    remove_leftovers(compose_engine)
    assert left_behind(before, engine_state(compose_engine)) == set()


def wait_for_containers(client: Any, process: subprocess.Popen[Any]) -> None:
    """Until both services of the run's project exist (the run is in the middle of its boot)."""
    mine = {"label": f"{LABEL_PID}={process.pid}"}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(client.containers.list(all=True, filters=mine, sparse=True)) < 2:
        assert process.poll() is None, "the run ended before its containers started"
        time.sleep(0.2)
    started = client.containers.list(all=True, filters=mine, sparse=True)
    assert len(started) == 2, "the project's containers never started"
