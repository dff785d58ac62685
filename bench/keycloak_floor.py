"""Keycloak's own start time as the floor of digasec's boot (issue 17, item 2), measured side by side in one run.

Per round, alternating: (a) the floor: the built distribution's `kc.sh start --optimized` with no realm to import,
until its master realm answers, with and without the JVM's ahead-of-time cache; (b) digasec's boot of the demo (the
process launcher of profiles/demo.yaml: Keycloak with the demo realm imported, the backend started beside it, both
ready). Prints the medians (min/max) and writes bench/results/keycloak-floor-<date>.json.

    .venv/bin/python -m bench.keycloak_floor --rounds 3

Run it on a quiet machine: every figure is a wall time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from fixtures.target.launchers.base import free_port
from fixtures.target.launchers.keycloak import (
    KeycloakDistribution,
    aot_java_options,
    find_java,
    keycloak_command,
    per_run_home,
)
from fixtures.target.launchers.process import ProcessLauncher
from fixtures.target.profile import load_profile

PROJECT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT / "bench" / "results"
DEMO_PROFILE = PROJECT / "profiles" / "demo.yaml"
READY_TIMEOUT_S = 300


def floor_start(distribution: KeycloakDistribution, java: Path, *, aot: bool) -> float:
    """Seconds from `kc.sh start --optimized` (no realm to import) until the master realm's discovery answers."""
    with tempfile.TemporaryDirectory(prefix="digasec-kc-floor-") as scratch:
        home = per_run_home(distribution.ensure(java), Path(scratch))
        port = free_port()
        env = {**os.environ, "JAVA_HOME": str(java), "KC_BOOTSTRAP_ADMIN_USERNAME": "digasec-floor",
               "KC_BOOTSTRAP_ADMIN_PASSWORD": secrets.token_urlsafe(18),
               **aot_java_options(distribution.aot_cache(java) if aot else None)}
        started = time.perf_counter()
        with (Path(scratch) / "keycloak.log").open("wb") as log:
            process = subprocess.Popen(keycloak_command(home, http_port=port, management_port=free_port()),
                                       env=env, cwd=home, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
            try:
                _wait_ready(f"http://127.0.0.1:{port}/realms/master/.well-known/openid-configuration", process)
                return time.perf_counter() - started
            finally:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(60)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    with httpx.Client(trust_env=False, timeout=5) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"Keycloak exited with {process.returncode}")
            try:
                if client.get(url).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    raise TimeoutError(f"Keycloak did not answer {url} within {READY_TIMEOUT_S} s")


def demo_boot() -> float:
    """Seconds of digasec's boot of the demo: Keycloak with the demo realm, and the backend, both ready."""
    with tempfile.TemporaryDirectory(prefix="digasec-demo-boot-") as work:
        launcher = ProcessLauncher(load_profile(DEMO_PROFILE), Path(work))
        started = time.perf_counter()
        try:
            launcher.boot()
            return time.perf_counter() - started
        finally:
            launcher.stop()


def spread(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 1), "min": round(min(values), 1),
            "max": round(max(values), 1), "n": len(values)}


def measure(rounds: int) -> dict[str, Any]:
    java = find_java()
    keycloak = load_profile(DEMO_PROFILE).keycloak
    assert keycloak is not None, "the demo profile names its Keycloak"
    distribution = KeycloakDistribution(keycloak.version)
    aot_available = distribution.aot_cache(java) is not None
    series: dict[str, list[float]] = {"floor_aot": [], "floor_plain": [], "demo_boot": []}
    for _ in range(rounds):  # interleaved, so that a busy spell of the machine hits every series alike
        if aot_available:
            series["floor_aot"].append(floor_start(distribution, java, aot=True))
        series["floor_plain"].append(floor_start(distribution, java, aot=False))
        series["demo_boot"].append(demo_boot())
    figures = {name: spread(values) for name, values in series.items() if values}
    floor = figures.get("floor_aot") or figures["floor_plain"]
    return {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "java": str(java),
            "keycloak": distribution.version, "aot_cache": aot_available, "load_average": os.getloadavg(),
            "figures": figures, "boot_over_floor_s": round(figures["demo_boot"]["median"] - floor["median"], 1)}


def table(result: dict[str, Any]) -> str:
    rows = [f"{'series':<14} {'median s':>9} {'min':>6} {'max':>6}"]
    for name, figure in result["figures"].items():
        rows.append(f"{name:<14} {figure['median']:>9} {figure['min']:>6} {figure['max']:>6}")
    rows.append(f"demo boot over the floor: {result['boot_over_floor_s']} s (Keycloak {result['keycloak']}, "
                f"load average {', '.join(f'{value:.1f}' for value in result['load_average'])})")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each series (default 3)")
    args = parser.parse_args(argv)
    result = measure(args.rounds)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"keycloak-floor-{result['date'][:10]}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    sys.stdout.write(f"{table(result)}\nwritten: {path.relative_to(PROJECT)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
