"""`digasec bench --quick`: the benchmark in its quickest mode (one scan of the 50-operation synthetic API, the raw
httpx loop, Schemathesis with one example per operation), so that it cannot rot. No figure is judged here (the
machine is noisy); only that every part ran, counted and was written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration
# families the synthetic API gives work to (a fail each: its flaws are planted for them)
FAMILIES = ("unauthenticated_access", "invalid_token", "cross_user_read", "cross_user_write", "cross_user_delete",
            "enumerable_id", "data_exposure", "account_existence_leak")


def test_quick_bench_measures_every_part(tmp_path: Path) -> None:
    completed = subprocess.run([sys.executable, "-m", "fixtures.cli", "bench", "--quick", "--out", str(tmp_path)],
                               cwd=PROJECT, capture_output=True, text=True, timeout=600, check=False)
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-3000:]
    assert "| 50 |" in completed.stdout, completed.stdout
    [written] = tmp_path.glob("*.json")
    result = json.loads(written.read_text())
    [size] = result["sizes"]
    assert size["operations"] == 50
    [run] = size["runs"]
    assert run["exit_code"] == 1, "the planted flaws must fail the gate"
    assert run["requests"] > 500
    assert run["peak_rss_mb"] > 20
    assert size["raw_requests_per_s"]["median"] > 0
    assert size["schemathesis"]["exit_code"] == 1, size["schemathesis"]  # it finds the public listings too
    assert size["schemathesis"]["requests"] > 50
    assert set(FAMILIES) <= set(run["families_s"])
    assert "harness_to_raw_rate" in result["targets"]
    assert result["machine_before"]["load_average"]
