"""Never green without proof: `digasec run` against a small local backend (tests/integration/verdict_backend.py,
pre-issued tokens, no Keycloak) exits with the verdict's code, and findings.json, junit.xml, results.sarif and
report.html show that same verdict: NOT TESTED for a spec without operations and for a run where the owner's own
requests are refused (nearly everything skipped), PASSED for a clean backend."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from pathlib import Path

import pytest

from tests.integration.conftest import Scan, assert_one_verdict, run_cli

pytestmark = pytest.mark.integration
APP = Path(__file__).with_name("verdict_backend.py")
PROFILE = """\
name: verdict-{mode}
environment: local
launcher: process
backend:
  command: ["{{python}}", "{app}", "{{port}}"]
  ready_path: /health
  openapi: /openapi.json
  env: {{VERDICT_MODE: {mode}}}
identity:
  provider: tokens
  tokens: ["${{VERDICT_TOKEN1}}", "${{VERDICT_TOKEN2}}", "${{VERDICT_TOKEN3}}"]
"""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(key: bytes, user: int) -> str:
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = _b64(json.dumps({"sub": f"u{user}", "preferred_username": f"user{user}",
                              "exp": int(time.time()) + 3600}).encode())
    signature = _b64(hmac.new(key, f"{head}.{claims}".encode(), hashlib.sha256).digest())
    return f"{head}.{claims}.{signature}"


def scan(tmp_path: Path, mode: str) -> Scan:
    profile = tmp_path / f"verdict-{mode}.yaml"
    profile.write_text(PROFILE.format(mode=mode, app=APP))
    key = secrets.token_hex(32)
    env = {"VERDICT_KEY": key, **{f"VERDICT_TOKEN{n}": token(key.encode(), n) for n in (1, 2, 3)}}
    return run_cli("run", "--profile", str(profile), "--lang", "en", out=tmp_path / "out", env=env, timeout=600)




def test_a_spec_without_operations_is_not_tested_everywhere(tmp_path: Path) -> None:
    result = scan(tmp_path, "empty")
    seen = assert_one_verdict(result, "not_tested", 4)
    assert [detail["code"] for detail in seen["findings"]["details"]].count("empty_spec") == 1
    assert "The OpenAPI document has no operations: nothing was tested." in seen["html_box"]
    assert seen["sarif_invocation"]["executionSuccessful"] is False
    notifications = [n["descriptor"]["id"] for n in seen["sarif_invocation"]["toolExecutionNotifications"]]
    assert "digasec/empty_spec" in notifications
    assert result.findings["run"]["operations"] == 0


def test_a_run_where_nearly_everything_is_skipped_is_not_tested(tmp_path: Path) -> None:
    result = scan(tmp_path, "owner_refused")
    seen = assert_one_verdict(result, "not_tested", 4)
    coverage = seen["findings"]["coverage"]
    applicable = coverage["items"] - coverage["not_applicable"]  # skips that do not apply are left out
    assert coverage["tested"] < applicable / 2, coverage
    expected = f"{coverage['tested']} of {applicable} applicable items got a verdict"
    assert any(reason.startswith(expected) for reason in seen["findings"]["reasons"]), seen["findings"]
    assert f"Only {coverage['tested']} of {applicable} applicable test items got a verdict" in seen["html_box"]
    assert seen["sarif_invocation"]["executionSuccessful"] is False


def test_a_clean_backend_passes_everywhere(tmp_path: Path) -> None:
    result = scan(tmp_path, "clean")
    seen = assert_one_verdict(result, "passed", 0)
    assert seen["findings"]["reasons"] == []
    assert seen["sarif_results"] == []
    assert seen["sarif_invocation"]["executionSuccessful"] is True
    coverage = seen["findings"]["coverage"]
    assert coverage["tested"] >= coverage["items"] / 2, coverage
