"""Integration tests: the real CLI against a real Keycloak and the real demo backend.

Each scan is a subprocess of `digasec run` (the same path a CI pipeline takes); its outputs land in a
temporary directory. Scans are shared per session because each boots Keycloak.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

PROJECT = Path(__file__).resolve().parents[2]


@dataclass
class Scan:
    exit_code: int
    out: Path
    console: str

    @property
    def findings(self) -> dict[str, Any]:
        return json.loads((self.out / "findings.json").read_text())

    @property
    def results(self) -> list[dict[str, Any]]:
        return self.findings["results"]

    def outcomes(self, *checks: str) -> set[tuple[str, str, str, str]]:
        return {(r["check"], r["method"], r["path"], r["outcome"]) for r in self.results if r["check"] in checks}


def run_cli(*args: str, out: Path | None = None, env: dict[str, str] | None = None, timeout: float = 900) -> Scan:
    command = [sys.executable, "-m", "fixtures.cli", *args]
    if out is not None:
        command += ["--out", str(out)]
    completed = subprocess.run(
        command, cwd=PROJECT, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})},
        check=False,
    )
    return Scan(completed.returncode, out or Path("/nonexistent"), completed.stdout + completed.stderr)


def ground_truth(*checks: str) -> list[dict[str, str]]:
    flaws = yaml.safe_load((PROJECT / "demo" / "ground_truth.yaml").read_text())
    return [flaw for flaw in flaws if flaw["check"] in checks]


@pytest.fixture(scope="session")
def demo_scan(tmp_path_factory: pytest.TempPathFactory) -> Scan:
    return run_cli("run", "--profile", "profiles/demo.yaml", out=tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="session")
def secure_scan(tmp_path_factory: pytest.TempPathFactory) -> Scan:
    return run_cli("run", "--profile", "profiles/demo-secure.yaml", out=tmp_path_factory.mktemp("secure"))


@pytest.fixture(scope="session")
def parallel_scan(tmp_path_factory: pytest.TempPathFactory) -> Scan:
    return run_cli("run", "--profile", "profiles/demo.yaml", "-n", "2", out=tmp_path_factory.mktemp("parallel"))
