"""Ctrl-C at every stage of a run leaves nothing behind: no test user or client in the realm, no seeded
object, no process, no work directory. The signals are sent for real to the real CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import PROJECT, Staging
from tests.integration.test_cli_contract import admin_of, harness_leftovers

pytestmark = pytest.mark.integration
TEMP = Path(tempfile.gettempdir())


def work_dirs(temp: Path = TEMP) -> set[Path]:
    return set(temp.glob("digasec-*"))


def private_temp(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A temporary directory of the run's own (TMPDIR), so that other runs on the machine do not count."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    return temp, {"TMPDIR": str(temp)}


def harness_processes(temp: Path = TEMP) -> list[str]:
    """Command lines of processes that run inside a digasec work directory (Keycloak, backends)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if f"{temp}/digasec-" in cmdline:
                found.append(cmdline)
    return found


def interrupt_at(stage: str, profile: Path, out: Path, env: dict[str, str], *, delay_s: float = 0.0) -> tuple[int, str]:
    """Start a run, wait for the progress line of `stage`, send SIGINT, and wait for the run to end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "fixtures.cli", "run", "--profile", str(profile), "--out", str(out)],
        cwd=PROJECT, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, **env},
    )
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if stage in line:
            time.sleep(delay_s)
            process.send_signal(signal.SIGINT)
            break
    else:
        process.wait(30)
        pytest.fail(f"the run ended before the stage {stage!r}: {''.join(seen)[-2000:]}")
    stdout, stderr = process.communicate(timeout=300)
    return process.returncode, "".join(seen) + stderr + stdout


def reminders_of_everyone(staging: Staging) -> list[object]:
    """The flawed demo lists every user's reminders (a planted flaw): a probe for seeded objects left behind."""
    admin = admin_of(staging.env)
    username, password = f"probe-{os.getpid()}-{time.monotonic_ns()}", "Probe-password-123!"
    user_id = admin.create_user({"username": username, "email": f"{username}@example.org", "enabled": True,
                                 "emailVerified": True, "firstName": "P", "lastName": "R",
                                 "credentials": [{"type": "password", "value": password, "temporary": False}]})
    try:
        token = httpx.post(f"{staging.env.keycloak_url}/realms/diga/protocol/openid-connect/token", trust_env=False,
                           data={"grant_type": "password", "client_id": "diga-app", "username": username,
                                 "password": password}).json()["access_token"]
        answer = httpx.get(f"{staging.flawed_base_url}/v1/reminders", trust_env=False,
                           headers={"Authorization": f"Bearer {token}"})
        return list(answer.json())
    finally:
        admin.delete_user(user_id)


@pytest.mark.parametrize(("stage", "delay_s"), [
    ("provisioning identities", 0.0),
    ("seeding objects", 0.0),
    ("running the checks", 3.0),
])
def test_interrupt_against_a_running_system(staging: Staging, tmp_path: Path, stage: str, delay_s: float) -> None:
    temp, env = private_temp(tmp_path)
    profile = staging.profile(tmp_path, flawed=True, users=3)
    code, output = interrupt_at(stage, profile, tmp_path / "out", {**staging.credentials(), **env}, delay_s=delay_s)
    assert code == 130, output[-3000:]
    assert harness_leftovers(staging.env) == []
    assert reminders_of_everyone(staging) == []
    assert work_dirs(temp) == set()


def test_interrupt_while_keycloak_boots(tmp_path: Path) -> None:
    temp, env = private_temp(tmp_path)
    code, output = interrupt_at("booting the target", PROJECT / "profiles" / "demo.yaml", tmp_path / "out", env,
                                delay_s=4.0)
    assert code == 130, output[-3000:]
    assert work_dirs(temp) == set()
    assert harness_processes(temp) == []


def test_a_killed_run_is_cleaned_up_by_the_next(staging: Staging, tmp_path: Path) -> None:
    """SIGKILL leaves users behind; the next run against the same realm removes them by their run tag."""
    profile = staging.profile(tmp_path, flawed=False, users=2)
    process = subprocess.Popen(
        [sys.executable, "-m", "fixtures.cli", "run", "--profile", str(profile), "--out", str(tmp_path / "a")],
        cwd=PROJECT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        env={**os.environ, **staging.credentials()},
    )
    assert process.stderr is not None
    for line in process.stderr:
        if "running the checks" in line:
            process.kill()
            break
    process.wait(30)
    process.stderr.close()
    assert harness_leftovers(staging.env) != []
    follow_up = subprocess.run(
        [sys.executable, "-m", "fixtures.cli", "run", "--profile", str(profile), "--out", str(tmp_path / "b"),
         "--", "-k", "unauthenticated_access"],
        cwd=PROJECT, capture_output=True, text=True, env={**os.environ, **staging.credentials()}, timeout=600,
        check=False,
    )
    assert "removed users and clients left behind by the killed run" in follow_up.stderr + follow_up.stdout
    assert harness_leftovers(staging.env) == []
