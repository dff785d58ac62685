"""Bad answers never become verdicts: 5xx and timeouts are errors, an empty 200 without a token is a finding,
non-JSON and huge bodies are handled; a backend that dies during the run stops it with exit 3."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import Scan, Staging, assert_one_verdict, misbehaving_backend, run_cli

pytestmark = pytest.mark.integration


def scan_of(staging: Staging, tmp_path: Path, base_url: str) -> Scan:
    profile = tmp_path / "bad.yaml"
    text = staging.profile(tmp_path, flawed=False).read_text().replace(staging.secure_base_url, base_url)
    profile.write_text(text + "checks:\n  request_timeout_s: 1\n  retries: 1\n")
    return run_cli("run", "--profile", str(profile), "--", "-k", "unauthenticated_access", out=tmp_path / "out",
                   env=staging.credentials())


def test_bad_answers_are_errors_not_verdicts(staging: Staging, tmp_path: Path) -> None:
    with misbehaving_backend(tmp_path, CRASH="0") as base_url:
        scan = scan_of(staging, tmp_path, base_url)
    outcome = {r["path"]: r for r in scan.results if r["check"] == "unauthenticated_access"}
    assert outcome["/v1/boom"]["outcome"] == "error", outcome["/v1/boom"]
    assert "500" in outcome["/v1/boom"]["reason"]
    assert outcome["/v1/slow"]["outcome"] == "error", outcome["/v1/slow"]
    assert "Timeout" in outcome["/v1/slow"]["reason"]
    assert outcome["/v1/empty"]["outcome"] == "fail"
    assert outcome["/v1/text"]["outcome"] == "pass"
    assert outcome["/v1/huge"]["outcome"] == "pass"
    assert scan.exit_code == 1
    assert "ended in error" in scan.console
    seen = assert_one_verdict(scan, "failed", 1)
    assert "2 items ended in error" in " ".join(seen["findings"]["reasons"])
    assert all(len(exchange["response"]) < 10_000 for r in scan.results for exchange in r["evidence"])


def test_a_backend_that_dies_stops_the_run_with_exit_3(staging: Staging, tmp_path: Path) -> None:
    with misbehaving_backend(tmp_path, CRASH="1") as base_url:
        scan = scan_of(staging, tmp_path, base_url)
    assert scan.exit_code == 3, scan.console[-3000:]
    assert "the backend stopped answering during the run" in scan.console
    seen = assert_one_verdict(scan, "aborted", 3, console=False)
    assert seen["sarif_invocation"]["executionSuccessful"] is False
