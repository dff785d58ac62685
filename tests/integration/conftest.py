"""Integration tests: the real CLI against a real Keycloak and the real demo backend.

Each scan is a subprocess of `digasec run` (the same path a CI pipeline takes); its outputs land in a
temporary directory. Scans are shared per session because each boots Keycloak.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from fixtures.target.launchers.base import Environment, free_port, wait_until_ready
from fixtures.target.launchers.process import ManagedProcess, ProcessLauncher
from fixtures.target.profile import Profile, load_profile

PROJECT = Path(__file__).resolve().parents[2]
# The statistical check measures response times: the shared demo scans leave it out, and `timing_scans` runs it
# alone, in the selftest's lane that has the machine to itself.
TIMING_CHECK = "account_existence_timing"


@dataclass
class Scan:
    exit_code: int
    out: Path
    console: str
    secrets_log: Path | None = None

    def secrets(self) -> list[dict[str, str]]:
        assert self.secrets_log is not None
        return [json.loads(line) for line in self.secrets_log.read_text().splitlines()]

    @property
    def findings(self) -> dict[str, Any]:
        return json.loads((self.out / "findings.json").read_text())

    @property
    def results(self) -> list[dict[str, Any]]:
        return self.findings["results"]

    def outcomes(self, *checks: str) -> set[tuple[str, str, str, str]]:
        return {(r["check"], r["method"], r["path"], r["outcome"]) for r in self.results if r["check"] in checks}


def run_cli(*args: str, out: Path | None = None, env: dict[str, str] | None = None, timeout: float = 900) -> Scan:
    cut = args.index("--") if "--" in args else len(args)
    own, extra = list(args[:cut]), list(args[cut:])
    if out is not None:
        own += ["--out", str(out)]
    command = [sys.executable, "-m", "fixtures.cli", *own, *extra]
    completed = subprocess.run(
        command, cwd=PROJECT, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})},
        check=False,
    )
    return Scan(completed.returncode, out or Path("/nonexistent"), completed.stdout + completed.stderr)


def start_run(profile: Path | str, out: Path, **popen: Any) -> subprocess.Popen[str]:
    """`digasec run` as a child process that a test can signal or kill (output as `popen` says)."""
    command = [sys.executable, "-m", "fixtures.cli", "run", "--profile", str(profile), "--out", str(out)]
    return subprocess.Popen(command, cwd=PROJECT, text=True, **popen)


def ground_truth(*checks: str) -> list[dict[str, str]]:
    flaws = yaml.safe_load((PROJECT / "demo" / "ground_truth.yaml").read_text())
    return [flaw for flaw in flaws if flaw["check"] in checks]


@pytest.fixture(scope="session")
def demo_scan(tmp_path_factory: pytest.TempPathFactory) -> Scan:
    """The full demo scan, with the PDF, and every secret the run used logged (outside the output directory)."""
    secrets_log = tmp_path_factory.mktemp("secrets") / "secrets.jsonl"
    scan = run_cli("run", "--profile", "profiles/demo.yaml", "--pdf", "--", "-k", f"not {TIMING_CHECK}",
                   out=tmp_path_factory.mktemp("demo"), env={"DIGASEC_SECRETS_LOG": str(secrets_log)})
    scan.secrets_log = secrets_log
    return scan


@pytest.fixture(scope="session")
def secure_scan(tmp_path_factory: pytest.TempPathFactory) -> Scan:
    return run_cli("run", "--profile", "profiles/demo-secure.yaml", "--", "-k", f"not {TIMING_CHECK}",
                   out=tmp_path_factory.mktemp("secure"))


@dataclass
class TimingScans:
    flawed: Scan
    secure: Scan


@pytest.fixture(scope="session")
def timing_scans(tmp_path_factory: pytest.TempPathFactory) -> TimingScans:
    """The timing check alone, on the flawed and on the secure demo. Its tests are the selftest's `timing` lane
    (tests/conftest.py), which runs with nothing else on the machine: response times are what it measures."""
    return TimingScans(
        run_cli("run", "--profile", "profiles/demo.yaml", "--", "-k", TIMING_CHECK,
                out=tmp_path_factory.mktemp("timing-flawed")),
        run_cli("run", "--profile", "profiles/demo-secure.yaml", "--", "-k", TIMING_CHECK,
                out=tmp_path_factory.mktemp("timing-secure")),
    )


@pytest.fixture(scope="session")
def parallel_scan(tmp_path_factory: pytest.TempPathFactory) -> Scan:
    """The demo scan with two workers (without the timing check, whose samples two workers would disturb)."""
    return run_cli("run", "--profile", "profiles/demo.yaml", "-n", "2", "--", "-k", f"not {TIMING_CHECK}",
                   out=tmp_path_factory.mktemp("parallel"))


@dataclass
class Staging:
    """A running 'staging system': one Keycloak, the secure demo and the flawed demo, started outside digasec."""

    env: Environment
    flawed_base_url: str

    @property
    def secure_base_url(self) -> str:
        return self.env.base_url

    def credentials(self) -> dict[str, str]:
        assert self.env.admin is not None
        return {"TEST_KC_ADMIN": self.env.admin.username, "TEST_KC_ADMIN_PASSWORD": self.env.admin.password}

    def profile(self, directory: Path, *, flawed: bool, users: int = 2, extra: str = "", identity: str = "") -> Path:
        """An external profile for this system; `identity` replaces the default identity section."""
        path = directory / ("flawed.yaml" if flawed else "secure.yaml")
        identity = identity or f"identity:\n  users: {users}\n  audience: diga-api\n"
        path.write_text(f"""
name: external demo ({'flawed' if flawed else 'secure'})
environment: ci
launcher: external
backend:
  base_url: {self.flawed_base_url if flawed else self.secure_base_url}
  ready_path: /health
  openapi: /openapi.json
keycloak:
  url: {self.env.keycloak_url}
  realm: diga
  admin_username: ${{TEST_KC_ADMIN}}
  admin_password: ${{TEST_KC_ADMIN_PASSWORD}}
{identity}
{extra}""")
        return path


def staging_profile() -> Profile:
    """The secure demo's profile, except that the public app client keeps its password grant: tests against
    staging (and its flawed backend) log in through it by password grant, as an app's tester would."""
    profile = load_profile(PROJECT / "profiles" / "demo-secure.yaml")
    assert profile.keycloak is not None
    settings = dict(profile.keycloak.realm_settings)
    settings["clients"] = [client for client in settings.get("clients", []) if client.get("clientId") != "diga-app"]
    keycloak = profile.keycloak.model_copy(update={"realm_settings": settings})
    return profile.model_copy(update={"keycloak": keycloak})


@pytest.fixture(scope="session")
def staging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Staging]:
    work = tmp_path_factory.mktemp("staging")
    launcher = ProcessLauncher(staging_profile(), work)
    env = launcher.boot()
    port = free_port()
    flawed = ManagedProcess(
        "flawed-backend",
        [sys.executable, "-m", "demo", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "KEYCLOAK_URL": env.keycloak_url, "KEYCLOAK_REALM": "diga", "OIDC_AUDIENCE": "diga-api",
             "DATABASE_URL": f"sqlite:///{work}/flawed.db", "DEMO_FLAWS": "all"},
        cwd=PROJECT,
        log=work / "flawed-backend.log",
    )
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/health", timeout_s=60, what="flawed demo", alive=flawed.alive,
                         log_tail=flawed.log_tail)
        yield Staging(env, f"http://127.0.0.1:{port}")
    finally:
        flawed.stop()
        launcher.stop()


# -- the Docker engine (containers and compose launchers) ------------------------------------------------------
def left_behind(before: tuple[set[str], ...], after: tuple[set[str], ...]) -> set[str]:
    """What exists after a run and did not before, as "container <id>", "network <id>", "volume <name>". Another run
    on the same engine may remove its own containers meanwhile, so "nothing left behind" means nothing new."""
    kinds = ("container", "network", "volume")
    return {f"{kind} {name}" for kind, then, now in zip(kinds, before, after, strict=False) for name in now - then}


KEYCLOAK_IMAGE = "digasec/keycloak:26.7.3"
BACKEND_IMAGE = "digasec/demo-backend:local"


def docker_present() -> bool:
    return bool(
        shutil.which("docker") or shutil.which("dockerd") or os.environ.get("DOCKER_HOST")
        or Path("/var/run/docker.sock").exists()
    )


needs_docker = pytest.mark.skipif(
    not docker_present(),
    reason="docker is absent (no docker or dockerd command, no /var/run/docker.sock, no DOCKER_HOST), so the "
    "containers launcher is not tested here: install docker.io, start `dockerd --bridge=none`, run images/build.sh",
)


@pytest.fixture(scope="session")
def engine() -> Iterator[Any]:
    import docker

    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as exc:
        pytest.fail(f"docker is installed but no engine answers ({exc}): start `dockerd --bridge=none` (or set "
                    "DOCKER_HOST)")
    missing = [image for image in (KEYCLOAK_IMAGE, BACKEND_IMAGE) if not client.images.list(name=image)]
    if missing:
        pytest.fail(f"images {missing} are not built: run images/build.sh")
    yield client
    client.close()


@contextmanager
def misbehaving_backend(tmp_path: Path, **faults: str) -> Iterator[str]:
    """The misbehaving backend (tests/integration/misbehaving_backend.py) on a free loopback port, with the faults
    its environment variables switch on; yields its base URL and stops it afterwards."""
    port = free_port()
    process = ManagedProcess(
        "misbehaving", [sys.executable, "-m", "tests.integration.misbehaving_backend", str(port)],
        env={**os.environ, **faults}, cwd=PROJECT, log=tmp_path / "misbehaving.log",
    )
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/health", timeout_s=60, what="misbehaving backend",
                         alive=process.alive, log_tail=process.log_tail)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()


# -- one verdict in every output ---------------------------------------------------------------------------------
# the verdict's word in the report, English and German (reports/i18n.yaml verdict_status)
STATUS_WORDS = {"passed": ("PASSED", "BESTANDEN"), "failed": ("FAILED", "NICHT BESTANDEN"),
                "not_tested": ("NOT TESTED", "NICHT GEPRÜFT"), "aborted": ("ABORTED", "ABGEBROCHEN"),
                "interrupted": ("INTERRUPTED", "UNTERBROCHEN")}


def verdicts(scan: Scan) -> dict[str, Any]:
    """The verdict as each output states it."""
    if not (scan.out / "findings.json").is_file():
        pytest.fail(f"no findings.json (exit {scan.exit_code}):\n{scan.console[-3000:]}")
    findings = scan.findings["run"]["verdict"]
    suite = ET.parse(scan.out / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    verdict_cases = [case for case in suite.iter("testcase") if case.get("classname") == "digasec.verdict"]
    sarif = json.loads((scan.out / "results.sarif").read_text())["runs"][0]
    page = (scan.out / "report.html").read_text()
    start = page.index('<section id="verdict">')
    box = html.unescape(page[start : page.index("</section>", start)])
    return {
        "findings": findings,
        "junit": properties["digasec.verdict"],
        "junit_failing_case": [case.get("name") for case in verdict_cases],
        "sarif": sarif["properties"]["digasec/verdict"]["status"],
        "sarif_invocation": sarif["invocations"][0],
        "sarif_results": sarif["results"],
        "html_status": page.split('data-status="', 1)[1].split('"', 1)[0],
        "html_box": box,
    }


def assert_one_verdict(scan: Scan, status: str, code: int, *, console: bool = True) -> dict[str, Any]:
    """The exit code is `code`, and findings.json, junit.xml, results.sarif and report.html
    all state `status`; with `console`, the CLI printed the verdict's reasons too."""
    seen = verdicts(scan)
    assert scan.exit_code == code, scan.console[-3000:]
    assert seen["findings"]["status"] == status
    assert seen["findings"]["exit_code"] == code
    assert seen["junit"] == status
    assert seen["junit_failing_case"] == ([] if status == "passed" else [status])
    assert seen["sarif"] == status
    assert seen["sarif_invocation"]["exitCode"] == code
    assert seen["html_status"] == status
    assert any(word in seen["html_box"] for word in STATUS_WORDS[status]), seen["html_box"][:2000]
    for reason in seen["findings"]["reasons"] if console else ():
        assert reason in scan.console  # the CLI prints the same reasons
    return seen
