"""The containers launcher end to end, against a real Docker engine and the locally built images (images/build.sh).

The demo scan through profiles/demo-containers.yaml must give the same (check, method, path, outcome) set as the
process launcher's scan of profiles/demo.yaml, and every run, also one that fails or is interrupted, must leave
the engine as it found it. Tests that need the engine are skipped only when docker is absent altogether; an
installed engine that does not answer, or missing images, fail with what to do.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from fixtures.target.launchers.containers import LABEL_HOST, LABEL_PID, LABEL_ROLE, LABEL_RUN, ContainersLauncher
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

pytestmark = pytest.mark.integration

def engine_state(client: Any) -> tuple[set[str], set[str]]:
    """What `docker ps -a` and `docker network ls` show: container ids and network ids."""
    return ({c.id for c in client.containers.list(all=True, sparse=True)}, {n.id for n in client.networks.list()})


@dataclass
class ContainersScan:
    scan: Scan
    before: tuple[set[str], set[str]]
    after: tuple[set[str], set[str]]


@pytest.fixture(scope="session")
def containers_scan(engine: Any, tmp_path_factory: pytest.TempPathFactory) -> ContainersScan:
    before = engine_state(engine)
    scan = run_cli("run", "--profile", "profiles/demo-containers.yaml", "--", "-k", f"not {TIMING_CHECK}",
                   out=tmp_path_factory.mktemp("containers"))
    return ContainersScan(scan, before, engine_state(engine))


def write_profile(tmp_path: Path, *, network: str = "host", keycloak_args: str = "[]", services: str = "",
                  backend_env: str = "") -> Path:
    path = tmp_path / "containers.yaml"
    path.write_text(f"""
name: containers launcher test
environment: ci
launcher: containers
containers:
  network: {network}
  keycloak:
    image: {KEYCLOAK_IMAGE}
    args: {keycloak_args}
  backend:
    image: {BACKEND_IMAGE}
{services}
backend:
  command: ["python", "-m", "demo", "--host", "{{host}}", "--port", "{{port}}"]
  env:
    KEYCLOAK_URL: "{{keycloak_url}}"
    KEYCLOAK_REALM: "{{realm}}"
    DEMO_FLAWS: all
{backend_env}
keycloak:
  version: 26.7.3
  realm: diga
  realm_import: {PROJECT / "demo" / "realm.json"}
  start_timeout_s: 180
identity:
  users: 2
  audience: diga-api
""")
    return path


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# -- the demo scan -------------------------------------------------------------------------------------------------
@needs_docker
def test_same_outcomes_as_the_process_launcher(containers_scan: ContainersScan, demo_scan: Scan) -> None:
    scan = containers_scan.scan
    assert scan.exit_code == demo_scan.exit_code == 1, scan.console[-3000:]
    checks = {r["check"] for r in scan.results}
    assert TIMING_CHECK not in checks
    assert {"unauthenticated_access", "invalid_token", "cross_user_read", "account_existence_leak"} <= checks
    containers, process = scan.outcomes(*checks), demo_scan.outcomes(*checks)
    assert containers == process, (
        f"only in containers: {sorted(containers - process)[:20]}\nonly in process: {sorted(process - containers)[:20]}"
    )
    run = scan.findings["run"]
    assert run["target"]["base_url"].startswith("http://127.0.0.1:")
    assert run["target"]["keycloak_url"].startswith("http://127.0.0.1:")
    assert run["target"]["keycloak_version"] == "26.7.3"
    assert run["boot_seconds"] > 0


@needs_docker
def test_the_scan_leaves_no_container_behind(containers_scan: ContainersScan) -> None:
    assert containers_scan.scan.exit_code in (0, 1), containers_scan.scan.console[-3000:]
    assert left_behind(containers_scan.before, containers_scan.after) == set()


# -- failures you can act on ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("profile", ["profiles/demo-containers.yaml", "profiles/demo-compose.yaml"])
def test_unreachable_engine_exits_3_and_says_what_to_do(profile: str, tmp_path: Path) -> None:
    dead = f"unix://{tmp_path}/no-engine.sock"
    scan = run_cli("run", "--profile", profile, out=tmp_path / "out",
                   env={"DOCKER_HOST": dead})
    assert scan.exit_code == 3, scan.console[-3000:]
    assert f"no Docker engine answers at {dead}" in scan.console
    assert "dockerd --bridge=none" in scan.console
    assert "Traceback" not in scan.console


@needs_docker
def test_a_container_that_exits_stops_the_run_with_its_log_and_removes_everything(engine: Any, tmp_path: Path) -> None:
    """A service that comes up, then Keycloak that exits at once: exit 3 with Keycloak's log tail, and nothing of
    the run is left. A container of a killed run (its process is gone) is removed on the way."""
    leftover = engine.containers.create(
        BACKEND_IMAGE, command=["true"], network_mode="none",
        labels={LABEL_RUN: "0badc0ffee00", LABEL_PID: str(dead_pid()), LABEL_HOST: socket.gethostname(),
                LABEL_ROLE: "backend"},
    )
    before = engine_state(engine)
    services = """  services:
    files:
      image: digasec/demo-backend:local
      command: ["python", "-m", "http.server", "{port}", "--bind", "{host}"]
      port: 8000
"""
    profile = write_profile(tmp_path, keycloak_args='["--no-such-option"]', services=services,
                            backend_env='    FILES_URL: "http://{files_host}:{files_port}/"')
    scan = run_cli("run", "--profile", str(profile), out=tmp_path / "out", timeout=300)
    assert scan.exit_code == 3, scan.console[-3000:]
    assert f"Keycloak ({KEYCLOAK_IMAGE}" in scan.console
    assert "exited during start-up" in scan.console
    assert "--- last lines of the log ---" in scan.console
    assert "no-such-option" in scan.console.split("--- last lines of the log ---", 1)[1]
    containers, networks = engine_state(engine)
    assert leftover.id not in containers
    assert left_behind(before, (containers, networks)) == set()


@needs_docker
def test_a_service_that_never_gets_ready_times_out_with_its_log(engine: Any, tmp_path: Path) -> None:
    before = engine_state(engine)
    services = """  services:
    slow:
      image: digasec/demo-backend:local
      command: ["python", "-c", "import time; print('slow service waiting', flush=True); time.sleep(600)"]
      port: 5999
      ready_timeout_s: 4
"""
    scan = run_cli("run", "--profile", str(write_profile(tmp_path, services=services)), out=tmp_path / "out",
                   timeout=300)
    assert scan.exit_code == 3, scan.console[-3000:]
    assert "the service 'slow' (digasec/demo-backend:local) did not accept connections on 127.0.0.1:" in scan.console
    assert "within 4 s" in scan.console
    assert "slow service waiting" in scan.console
    assert left_behind(before, engine_state(engine)) == set()


@needs_docker
def test_ctrl_c_during_boot_removes_the_containers(engine: Any, tmp_path: Path) -> None:
    before = engine_state(engine)
    process = start_run(write_profile(tmp_path), tmp_path / "out", stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        mine = {"label": [f"{LABEL_PID}={process.pid}", f"{LABEL_ROLE}=keycloak"]}
        while time.monotonic() < deadline and not engine.containers.list(filters=mine, sparse=True):
            assert process.poll() is None, process.communicate()[0][-3000:]
            time.sleep(0.2)
        assert engine.containers.list(filters=mine, sparse=True), "Keycloak's container never started"
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=120)[0]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode != 0, output[-3000:]
    assert engine.containers.list(all=True, filters={"label": f"{LABEL_PID}={process.pid}"}, sparse=True) == []
    assert left_behind(before, engine_state(engine)) == set()


def listeners(pids: set[int]) -> list[str]:
    """Local addresses of the TCP/UDP sockets these processes listen on (`ss`, host network namespace)."""
    out = subprocess.run(["ss", "-H", "-lntup"], capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        owners = {int(pid) for pid in re.findall(r"pid=(\d+),", line)}
        if owners & pids:
            found.append(line.split()[4])
    return found


def is_loopback(address: str) -> bool:
    host = address.rsplit(":", 1)[0].strip("[]").removeprefix("::ffff:")
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@needs_docker
@pytest.mark.skipif(shutil.which("ss") is None, reason="needs `ss` (Debian package iproute2)")
def test_host_network_servers_listen_on_loopback_only(engine: Any, tmp_path: Path) -> None:
    before = engine_state(engine)
    launcher = ContainersLauncher(load_profile(PROJECT / "profiles" / "demo-containers.yaml"), tmp_path)
    try:
        env = launcher.boot()
        assert env.base_url.startswith("http://127.0.0.1:")
        mine = engine.containers.list(filters={"label": f"{LABEL_RUN}={launcher.run_id}"})
        assert {c.labels[LABEL_ROLE] for c in mine} == {"keycloak", "backend"}
        pids = {int(row[0]) for c in mine for row in c.top(ps_args="-o pid")["Processes"]}
        addresses = listeners(pids)
        assert len(addresses) >= 3, addresses  # Keycloak http + management, the backend
        assert [a for a in addresses if not is_loopback(a)] == []
    finally:
        assert launcher.stop() == []
    assert left_behind(before, engine_state(engine)) == set()


# -- the network mode for users' machines ------------------------------------------------------------------------
@needs_docker
def test_bridge_network_publishes_on_loopback_only_and_containers_reach_keycloak_by_name(
    engine: Any, tmp_path: Path
) -> None:
    before = engine_state(engine)
    profile = load_profile(write_profile(
        tmp_path, network="bridge", backend_env='    KEYCLOAK_INTERNAL_URL: "{keycloak_internal_url}"'
    ))
    launcher = ContainersLauncher(profile, tmp_path)
    try:
        env = launcher.boot()
        assert httpx.get(f"{env.base_url}/health", trust_env=False).status_code == 200
        discovery = httpx.get(f"{env.issuer}/.well-known/openid-configuration", trust_env=False).json()
        assert discovery["issuer"] == env.issuer
        assert env.keycloak_url.startswith("http://127.0.0.1:")

        mine = engine.containers.list(filters={"label": f"{LABEL_RUN}={launcher.run_id}"})
        assert {c.labels[LABEL_ROLE] for c in mine} == {"keycloak", "backend"}
        for container in mine:
            bindings = [b for ports in container.attrs["NetworkSettings"]["Ports"].values() if ports for b in ports]
            assert bindings
            assert {b["HostIp"] for b in bindings} == {"127.0.0.1"}

        backend = next(c for c in mine if c.labels[LABEL_ROLE] == "backend")
        probe = (
            "import json, os, urllib.request; "
            "url = os.environ['KEYCLOAK_INTERNAL_URL'] + '/realms/diga/.well-known/openid-configuration'; "
            "print(json.dumps(json.load(urllib.request.urlopen(url))))"
        )
        result = backend.exec_run(["python", "-c", probe])
        assert result.exit_code == 0, result.output.decode()[-2000:]
        inside = httpx.Response(200, content=result.output).json()
        assert inside["issuer"] == env.issuer  # tokens carry the URL the harness uses
        assert inside["jwks_uri"].startswith("http://keycloak:8080/")  # keys come through the network name
    finally:
        assert launcher.stop() == []
    assert left_behind(before, engine_state(engine)) == set()
