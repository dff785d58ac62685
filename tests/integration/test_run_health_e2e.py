"""Run health (issue 13), against the misbehaving backend's owned-notes API with pre-issued tokens (no Keycloak):
an empty spec, tokens revoked mid-run, the same token for two users, a 500 on the first creations, and Ctrl-C while
an object is being created. Each run is the real CLI; what is left on the backend is read from the backend's own
store file (not through the harness)."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from fixtures import cli
from tests.integration.conftest import PROJECT, Scan, assert_one_verdict, misbehaving_backend, run_cli

pytestmark = pytest.mark.integration


def b64(data: dict[str, object] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def token(sub: str) -> str:
    """A JWT-shaped token (the fake backend reads `sub` and checks nothing else)."""
    claims = {"sub": sub, "preferred_username": sub, "exp": int(time.time()) + 3600}
    return f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64(claims)}.{b64(os.urandom(16))}"


@dataclass
class Backend:
    base_url: str
    store: Path

    def notes_left(self) -> dict[str, dict[str, str]]:
        """The notes on the backend, read from its own store file (written on every change)."""
        if not self.store.exists():
            return {}
        notes: dict[str, dict[str, str]] = json.loads(self.store.read_text())["notes"]
        return notes


@contextmanager
def backend(tmp_path: Path, **faults: str) -> Iterator[Backend]:
    """The misbehaving backend's API of owned notes, its store in a file the test reads."""
    store = tmp_path / "store.json"
    with misbehaving_backend(tmp_path, **{"HEALTH_NOTES": "1", "FAULT_STORE": str(store), **faults}) as base_url:
        yield Backend(base_url, store)


def profile(tmp_path: Path, target: Backend, *, retries: int = 1) -> Path:
    path = tmp_path / "health.yaml"
    path.write_text(
        "name: run-health\nenvironment: local\nlauncher: external\n"
        f"backend:\n  base_url: {target.base_url}\n  ready_path: /health\n"
        "identity:\n  provider: tokens\n  tokens: ['${HEALTH_T1}', '${HEALTH_T2}']\n"
        f"checks:\n  retries: {retries}\n  request_timeout_s: 10\n"
    )
    return path


def scan(tmp_path: Path, target: Backend, tokens: tuple[str, str] | None = None, *, retries: int = 1) -> Scan:
    first, second = tokens or (token("alice"), token("bob"))
    return run_cli("run", "--profile", str(profile(tmp_path, target, retries=retries)), out=tmp_path / "out",
                   env={"HEALTH_T1": first, "HEALTH_T2": second}, timeout=600)


def codes(result: Scan) -> list[str]:
    return [entry["code"] for entry in result.findings["run"]["not_tested"]]


def assert_not_green(result: Scan) -> None:
    """Exit 4 ("not enough was tested"), and every output's verdict says the same."""
    assert_one_verdict(result, "not_tested", cli.EXIT_NOT_TESTED)


def test_an_empty_spec_is_not_tested(tmp_path: Path) -> None:
    with backend(tmp_path, FAULT_EMPTY_SPEC="1", HEALTH_NOTES="0") as target:
        result = scan(tmp_path, target)
    assert result.findings["run"]["operations"] == 0, result.console[-3000:]
    assert codes(result) == ["empty_spec"]
    assert_not_green(result)


def test_tokens_revoked_mid_run_stop_the_run_with_credential_lost(tmp_path: Path) -> None:
    tokens = (token("alice"), token("bob"))
    with backend(tmp_path, FAULT_REVOKE_AFTER="30", FAULT_KNOWN_TOKENS=",".join(tokens)) as target:
        result = scan(tmp_path, target, tokens)
        left = target.notes_left()
    assert "credential_lost" in codes(result), result.console[-3000:]
    lost = [r for r in result.results if r["outcome"] == "skip" and "stopped working" in r.get("reason", "")]
    assert lost, "the items after the loss say why they were not tested"
    assert all("not tested" in r["reason"] for r in lost)
    assert not [r for r in result.results if r["outcome"] == "fail"], "a dead credential makes no finding"
    # a revoked token cannot delete what it created: every such object is named as not removed, none silently left
    problems = " ".join(result.findings["run"]["cleanup_problems"])
    assert left, "the revoked tokens could not delete their objects"
    assert all(note_id in problems for note_id in left), (left, problems)
    assert_not_green(result)


def test_the_same_token_for_two_users_is_refused_at_boot(tmp_path: Path) -> None:
    same = token("alice")
    with backend(tmp_path) as target:
        result = scan(tmp_path, target, (same, same))
        left = target.notes_left()
    assert result.exit_code == 2, result.console[-3000:]
    assert "user1 and user2 have the same subject" in result.console
    assert same not in result.console
    assert left == {}


def test_a_500_while_seeding_is_retried_and_then_an_error_not_a_skip(tmp_path: Path) -> None:
    with backend(tmp_path, FAULT_FAIL_CREATES="2") as target:  # the first creation and its one retry fail
        result = scan(tmp_path, target, retries=1)
        left = target.notes_left()
    assert result.findings["run"]["seed_failures"], result.console[-3000:]
    assert not [r for r in result.results if "add a recipe" in r.get("reason", "")]
    errors = [r for r in result.results if r["outcome"] == "error" and "seeding failed" in r.get("reason", "")]
    assert errors
    assert all("HTTP 500" in r["reason"] for r in errors)
    assert result.exit_code == 1
    assert left == {}


def test_a_single_500_while_seeding_is_absorbed_by_a_retry(tmp_path: Path) -> None:
    with backend(tmp_path, FAULT_FAIL_CREATES="1") as target:
        result = scan(tmp_path, target, retries=1)
        left = target.notes_left()
    assert result.findings["run"]["seed_failures"] == {}, result.console[-3000:]
    assert not [r for r in result.results if "seeding failed" in r.get("reason", "")]
    assert left == {}


def test_ctrl_c_while_an_object_is_created_names_what_may_exist(tmp_path: Path) -> None:
    with backend(tmp_path, FAULT_SLOW_CREATE="4") as target:
        process = subprocess.Popen(
            [sys.executable, "-m", "fixtures.cli", "run", "--profile", str(profile(tmp_path, target)),
             "--out", str(tmp_path / "out")],
            cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "HEALTH_T1": token("alice"), "HEALTH_T2": token("bob")},
        )
        assert process.stderr is not None
        seen = []
        for line in process.stderr:
            seen.append(line)
            if "seeding objects" in line:
                time.sleep(1.5)  # the first creation is under way: stored on the backend, no answer yet
                process.send_signal(signal.SIGINT)
                break
        stdout, stderr = process.communicate(timeout=120)
        output = "".join(seen) + stderr + stdout
        left = target.notes_left()
    assert process.returncode == 130, output[-3000:]
    assert len(left) == 1, left
    assert "may exist: POST /v1/notes by user1" in output
