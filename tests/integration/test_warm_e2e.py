"""Warm mode end to end: `digasec up` keeps a zoo target running, `digasec run --attach` scans it twice, Ctrl-C on
`up` stops the backend and removes the state file. No Keycloak: the target runs its own login (backend_api)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from fixtures.target.launchers.process import process_start_time
from tests.integration.conftest import PROJECT, run_cli

ZOO_PROFILE = PROJECT / "tests" / "targets" / "open_directory" / "profile.yaml"
STATE_TIMEOUT_S = 30.0


def _profile(tmp_path: Path) -> Path:
    """The zoo target's planted profile (process launcher: `up` starts the app as its backend command)."""
    data = yaml.safe_load(ZOO_PROFILE.read_text())
    data["backend"]["workdir"] = str(PROJECT)
    path = tmp_path / "warm.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _state_file(cache: Path) -> Path | None:
    files = list((cache / "up").glob("*.json")) if (cache / "up").is_dir() else []
    return files[0] if files else None


def _wait_for_state(up: subprocess.Popen[str], cache: Path, console: Path) -> Path:
    deadline = time.monotonic() + STATE_TIMEOUT_S
    while time.monotonic() < deadline:
        state = _state_file(cache)
        if state is not None:
            return state
        if up.poll() is not None:
            pytest.fail(f"`digasec up` exited with {up.returncode}:\n{console.read_text()}")
        time.sleep(0.2)
    pytest.fail(f"`digasec up` wrote no state file within {STATE_TIMEOUT_S:.0f} s:\n{console.read_text()}")


def _outcomes(out: Path) -> set[tuple[str, str, str, str]]:
    results = json.loads((out / "findings.json").read_text())["results"]
    return {(r["check"], r["method"], r["path"], r["outcome"]) for r in results}


def test_attach_without_up_says_to_start_it(tmp_path: Path) -> None:
    scan = run_cli("run", "--profile", str(_profile(tmp_path)), "--attach", out=tmp_path / "out",
                   env={"DIGASEC_CACHE": str(tmp_path / "cache")}, timeout=120)
    assert scan.exit_code == 3, scan.console
    assert "digasec up --profile" in scan.console


def test_up_keeps_the_target_for_attached_runs_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    profile, cache, console = _profile(tmp_path), tmp_path / "cache", tmp_path / "up.log"
    env = {**os.environ, "DIGASEC_CACHE": str(cache)}
    with console.open("w") as log:
        up = subprocess.Popen([sys.executable, "-m", "fixtures.cli", "up", "--profile", str(profile)], cwd=PROJECT,
                              text=True, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        state_file = _wait_for_state(up, cache, console)
        assert state_file.stat().st_mode & 0o777 == 0o600
        state = json.loads(state_file.read_text())
        assert state["pid"] == up.pid
        pid_text, backend_start = (Path(state["env"]["run_dir"]) / "backend.pid").read_text().split()
        backend_pid = int(pid_text)

        scans = [run_cli("run", "--profile", str(profile), "--attach", "--", "-k", "unauthenticated_access",
                         out=tmp_path / f"out{index}", env={"DIGASEC_CACHE": str(cache)}, timeout=120)
                 for index in (1, 2)]
        for scan in scans:
            assert scan.exit_code == 1, scan.console  # the planted target leaves an operation open
            assert "attaching to the target" in scan.console
            assert "booting the target" not in scan.console
        assert _outcomes(scans[0].out) == _outcomes(scans[1].out)
        assert any(outcome == "fail" for *_, outcome in _outcomes(scans[0].out))
        assert process_start_time(backend_pid) == backend_start  # the same backend served both runs

        up.send_signal(signal.SIGINT)
        assert up.wait(30) == 130, console.read_text()
    finally:
        if up.poll() is None:
            up.kill()
            up.wait(10)
    assert process_start_time(backend_pid) != backend_start, "the backend still runs after `up` stopped"
    assert not state_file.exists()
    assert not Path(state["env"]["run_dir"]).exists()
    assert "interrupted; stopping the target" in console.read_text()


def test_up_exits_3_when_the_backend_dies(tmp_path: Path) -> None:
    profile, cache, console = _profile(tmp_path), tmp_path / "cache", tmp_path / "up.log"
    with console.open("w") as log:
        up = subprocess.Popen([sys.executable, "-m", "fixtures.cli", "up", "--profile", str(profile)], cwd=PROJECT,
                              text=True, stdout=log, stderr=subprocess.STDOUT,
                              env={**os.environ, "DIGASEC_CACHE": str(cache)})
    try:
        state_file = _wait_for_state(up, cache, console)
        run_dir = Path(json.loads(state_file.read_text())["env"]["run_dir"])
        os.killpg(int((run_dir / "backend.pid").read_text().split()[0]), signal.SIGKILL)
        assert up.wait(30) == 3, console.read_text()
    finally:
        if up.poll() is None:
            up.kill()
            up.wait(10)
    assert "backend exited" in console.read_text()
    assert not state_file.exists()
    assert not run_dir.exists()
