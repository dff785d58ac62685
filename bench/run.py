"""`./digasec bench`: scan synthetic APIs of several sizes, with a raw httpx loop and Schemathesis side by side.

For each size (operations): the synthetic server (bench/synthetic.py) is started once on 127.0.0.1, then `runs`
times `digasec run` scans it (as a child process, the server named by an external-launcher profile). Per run: the
wall time, the time per check family (the sum of findings.json's per-item `duration_s`), the requests the server
served and the rate, and the peak RSS of the `digasec run` process tree (pytest-xdist workers included, polled
from /proc). Then, on the same server: (a) a plain httpx loop sending as many requests as the scan did (the raw
rate), (b) Schemathesis's `ignored_auth` check on the same document. With `workers`, the 200-operation API is also
scanned with `-n 2` and the outcomes compared. Every figure is the median (min, max) over the runs.
Optional (`--demo`): `digasec demo` cold and warm (Keycloak and backend boot + scan), from its console timings.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

PROJECT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT / "bench" / "results"
SIZES = (50, 200, 800)
QUICK_SIZES = (50,)
SCALING = (200, 800)  # the 800-operation API may take at most 4.5x the 200-operation one
PARALLEL_SIZE = 200
SCHEMATHESIS_EXAMPLES = 10  # test cases per operation (Schemathesis's default is 100; see the README)
QUICK_SCHEMATHESIS_EXAMPLES = 1
PROFILE = """\
name: bench synthetic API ({operations} operations)
environment: ci
launcher: external
backend:
  base_url: {base_url}
  ready_path: /health
  openapi: /openapi.json
identity:
  provider: backend_api
  users: 3
  backend:
    registration: POST /register
    registration_body: {{username: "{{username}}", email: "{{email}}", password: "{{password}}"}}
    login: POST /login
    login_body: {{username: "{{username}}", password: "{{password}}"}}
    token_json: access_token
    send_as: bearer
    delete_account: DELETE /me
"""


@dataclass
class ScanFigures:
    """One `digasec run` against a synthetic API."""

    workers: int
    exit_code: int
    wall_s: float
    requests: int
    requests_per_s: float
    active_requests_per_s: float  # over the time from the first to the last request the server saw
    peak_rss_mb: float
    families_s: dict[str, float]
    outcomes: dict[str, int]
    outcome_keys: list[str] = field(repr=False)


@dataclass
class SizeFigures:
    operations: int
    scans: list[ScanFigures] = field(default_factory=list)
    parallel: list[ScanFigures] = field(default_factory=list)
    raw: list[dict[str, float]] = field(default_factory=list)
    schemathesis: dict[str, Any] = field(default_factory=dict)


# --- processes -------------------------------------------------------------------------------------------------------

def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def synthetic_server(operations: int) -> Iterator[str]:
    """The synthetic API on a free loopback port, for the duration of the block; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "bench.synthetic", "--port", str(port), "--operations", str(operations)]
    process = subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base_url}/health", timeout=2, trust_env=False).is_success:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the synthetic server ({operations} operations) did not start")
            time.sleep(0.1)
        yield base_url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    return children


def tree_rss_bytes(root: int) -> int:
    """The resident memory of `root` and all its descendants (0 for processes already gone)."""
    children = _children()
    page = os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
    return total


class PeakMemory:
    """Polls the RSS of a process tree in a thread until stopped; `peak` is the largest sum seen."""

    def __init__(self, pid: int, interval_s: float = 0.2) -> None:
        self.pid, self.interval_s, self.peak = pid, interval_s, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_bytes(self.pid))
            self._stop.wait(self.interval_s)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


# --- one scan --------------------------------------------------------------------------------------------------------

def server_stats(base_url: str) -> dict[str, float]:
    stats: dict[str, float] = httpx.get(f"{base_url}/_bench/stats", timeout=10, trust_env=False).json()
    return stats


def scan(base_url: str, operations: int, workdir: Path, *, workers: int = 0) -> ScanFigures:
    """`digasec run` against the server; the figures of that one run."""
    profile = workdir / f"profile-{operations}.yaml"
    profile.write_text(PROFILE.format(operations=operations, base_url=base_url))
    out = Path(tempfile.mkdtemp(prefix=f"scan-{operations}-n{workers}-", dir=workdir))
    httpx.post(f"{base_url}/_bench/reset", timeout=10, trust_env=False)
    command = [sys.executable, "-m", "fixtures.cli", "run", "--profile", str(profile), "--out", str(out)]
    if workers:
        command += ["-n", str(workers)]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    memory = PeakMemory(process.pid)
    _, errors = process.communicate()
    wall_s = time.perf_counter() - started
    peak = memory.stop()
    findings_path = out / "findings.json"
    if not findings_path.is_file():
        raise RuntimeError(f"digasec run exited {process.returncode} without findings.json: {errors[-2000:]}")
    results = json.loads(findings_path.read_text())["results"]
    families: dict[str, float] = {}
    for result in results:
        families[result["check"]] = families.get(result["check"], 0.0) + float(result.get("duration_s") or 0.0)
    stats = server_stats(base_url)
    requests = int(stats["requests"])
    return ScanFigures(
        workers=workers, exit_code=process.returncode, wall_s=round(wall_s, 2), requests=requests,
        requests_per_s=round(requests / wall_s, 1),
        active_requests_per_s=round(requests / max(stats["last"] - stats["first"], 1e-3), 1),
        peak_rss_mb=round(peak / 2**20, 1),
        families_s={name: round(seconds, 2) for name, seconds in sorted(families.items())},
        outcomes=dict(Counter(result["outcome"] for result in results)),
        outcome_keys=sorted(f"{r['check']} {r['method']} {r['path']} {r.get('variant', '')} {r['outcome']}"
                            for r in results),
    )


# --- the baselines ---------------------------------------------------------------------------------------------------

def signed_in(base_url: str, client: httpx.Client, name: str) -> str:
    """Registers and logs in a user of the benchmark's own; its token."""
    password = "bench-password-1"
    client.post(f"{base_url}/register", json={"username": name, "email": f"{name}@example.org", "password": password})
    answer = client.post(f"{base_url}/login", json={"username": name, "password": password})
    answer.raise_for_status()
    token: str = answer.json()["access_token"]
    return token


def raw_rate(base_url: str, requests: int) -> dict[str, float]:
    """A plain httpx loop: `requests` signed-in GETs of one entry and of the caller's list, one after another."""
    with httpx.Client(base_url=base_url, timeout=10, trust_env=False) as client:
        token = signed_in(base_url, client, f"raw-{time.time_ns()}")
        headers = {"Authorization": f"Bearer {token}"}
        entry = client.post("/r000/entries", json={"title": "raw"}, headers=headers).json()["id"]
        paths = (f"/r000/entries/{entry}", "/r000/entries")
        started = time.perf_counter()
        for index in range(requests):
            client.get(paths[index % 2], headers=headers).raise_for_status()
        seconds = time.perf_counter() - started
    return {"requests": requests, "seconds": round(seconds, 2), "requests_per_s": round(requests / seconds, 1)}


def schemathesis(base_url: str, workdir: Path, examples: int = SCHEMATHESIS_EXAMPLES) -> dict[str, Any]:
    """`schemathesis run --checks ignored_auth` on the same document, signed in as a user of its own."""
    with httpx.Client(timeout=10, trust_env=False) as client:
        token = signed_in(base_url, client, f"st-{time.time_ns()}")
    httpx.post(f"{base_url}/_bench/reset", timeout=10, trust_env=False)
    executable = Path(sys.executable).with_name("schemathesis")
    command = [str(executable), "run", f"{base_url}/openapi.json", "--checks", "ignored_auth", "--max-examples",
               str(examples), "--seed", "1", "--no-color", "-H", f"Authorization: Bearer {token}"]
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=workdir, capture_output=True, text=True, check=False, timeout=3600)
    seconds = time.perf_counter() - started
    summary = [line.strip() for line in completed.stdout.splitlines() if "ST401" in line or " in " in line][-2:]
    return {"seconds": round(seconds, 2), "exit_code": completed.returncode, "max_examples": examples,
            "requests": int(server_stats(base_url)["requests"]), "summary": summary}


# --- the demo (optional) ---------------------------------------------------------------------------------------------

def demo_run(workdir: Path) -> dict[str, Any]:
    """`digasec demo` once: the wall time, and the check families' times from its findings.json."""
    out = Path(tempfile.mkdtemp(prefix="demo-", dir=workdir))
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, "-m", "fixtures.cli", "demo", "--out", str(out)], cwd=PROJECT,
                               capture_output=True, text=True, check=False, timeout=3600)
    wall_s = time.perf_counter() - started
    findings_path = out / "findings.json"
    if not findings_path.is_file():
        return {"exit_code": completed.returncode, "wall_s": round(wall_s, 1), "error": completed.stderr[-1000:]}
    findings = json.loads(findings_path.read_text())
    families: dict[str, float] = {}
    for result in findings["results"]:
        families[result["check"]] = families.get(result["check"], 0.0) + float(result.get("duration_s") or 0.0)
    checks_s = sum(families.values())
    return {"exit_code": completed.returncode, "wall_s": round(wall_s, 1), "checks_s": round(checks_s, 1),
            "timing_s": round(families.get("account_existence_timing", 0.0), 1),
            "boot_and_rest_s": round(wall_s - checks_s, 1),
            "families_s": {name: round(value, 2) for name, value in sorted(families.items())}}


# --- the figures -----------------------------------------------------------------------------------------------------

def spread(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 2), "min": round(min(values), 2),
            "max": round(max(values), 2), "runs": len(values)}


def summarise(size: SizeFigures) -> dict[str, Any]:
    scans = size.scans
    families = sorted({name for one in scans for name in one.families_s})
    summary: dict[str, Any] = {
        "operations": size.operations,
        "wall_s": spread([one.wall_s for one in scans]),
        "requests": spread([one.requests for one in scans]),
        "requests_per_s": spread([one.requests_per_s for one in scans]),
        "active_requests_per_s": spread([one.active_requests_per_s for one in scans]),
        "peak_rss_mb": spread([one.peak_rss_mb for one in scans]),
        "families_s": {name: spread([one.families_s.get(name, 0.0) for one in scans]) for name in families},
        "outcomes": scans[0].outcomes,
        "same_outcomes_every_run": all(one.outcome_keys == scans[0].outcome_keys for one in scans),
        "raw_requests_per_s": spread([one["requests_per_s"] for one in size.raw]),
        "schemathesis": size.schemathesis,
        "runs": [{k: v for k, v in asdict(one).items() if k != "outcome_keys"} for one in scans],
    }
    raw = summary["raw_requests_per_s"]["median"]
    summary["harness_to_raw"] = round(summary["requests_per_s"]["median"] / raw, 3)
    summary["active_to_raw"] = round(summary["active_requests_per_s"]["median"] / raw, 3)
    if size.parallel:
        serial = summary["wall_s"]["median"]
        parallel = spread([one.wall_s for one in size.parallel])
        summary["parallel"] = {
            "workers": size.parallel[0].workers, "wall_s": parallel,
            "speed_up": round(serial / parallel["median"], 2),
            "peak_rss_mb": spread([one.peak_rss_mb for one in size.parallel]),
            "same_outcomes_as_serial": all(one.outcome_keys == scans[0].outcome_keys for one in size.parallel),
            "runs": [{k: v for k, v in asdict(one).items() if k != "outcome_keys"} for one in size.parallel],
        }
    return summary


def targets(sizes: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Issue 17 item 4: each target with its measured value and whether it is met (None: not measured)."""
    found: dict[str, Any] = {}
    small, large = SCALING
    if small in sizes and large in sizes:
        ratio = sizes[large]["wall_s"]["median"] / sizes[small]["wall_s"]["median"]
        found["scaling_800_to_200"] = {"value": round(ratio, 2), "limit": 4.5, "met": ratio <= 4.5}
    parallel = sizes.get(PARALLEL_SIZE, {}).get("parallel")
    if parallel:
        found["speed_up_n2_at_200"] = {"value": parallel["speed_up"], "limit": 1.6,
                                       "met": parallel["speed_up"] >= 1.6 and parallel["same_outcomes_as_serial"],
                                       "same_outcomes": parallel["same_outcomes_as_serial"]}
    worst = min(sizes.values(), key=lambda one: one["harness_to_raw"]) if sizes else None
    if worst:
        # judged at the size where it is smallest; every size's ratio (by wall time; first to last request) too
        found["harness_to_raw_rate"] = {"value": worst["harness_to_raw"], "limit": 0.5,
                                        "met": worst["harness_to_raw"] >= 0.5, "at": worst["operations"],
                                        "active_value": worst["active_to_raw"],
                                        "by_size": {str(operations): [one["harness_to_raw"], one["active_to_raw"]]
                                                    for operations, one in sorted(sizes.items())}}
    if 800 in sizes:
        peak = sizes[800]["peak_rss_mb"]["max"]
        found["peak_rss_mb_at_800"] = {"value": peak, "limit": 400, "met": peak <= 400}
    return found


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "load_average": [round(value, 2) for value in os.getloadavg()]}


def _figure(value: dict[str, float], unit: str = "") -> str:
    return f"{value['median']:g}{unit} ({value['min']:g}-{value['max']:g})"


def table(result: dict[str, Any]) -> str:
    lines = [f"digasec bench {result['started']}  commit {result.get('commit', 'unknown')}  "
             f"runs per figure: {result['runs']}  "
             f"load average before/after: {result['machine_before']['load_average']} / "
             f"{result['machine_after']['load_average']}", "",
             "| operations | scan wall s | requests | harness req/s (wall; first-to-last request) | raw httpx req/s "
             "| harness/raw (wall; active) | peak RSS MB "
             "| -n 2 wall s (speed-up, same outcomes) | Schemathesis ignored_auth s |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for size in result["sizes"]:
        parallel = size.get("parallel")
        parallel_text = (f"{_figure(parallel['wall_s'])} ({parallel['speed_up']}x, "
                         f"{'yes' if parallel['same_outcomes_as_serial'] else 'NO'})") if parallel else "-"
        st = size["schemathesis"]
        st_text = f"{st['seconds']:g} ({st['requests']} requests, {st['max_examples']} examples/op)" if st else "-"
        lines.append(f"| {size['operations']} | {_figure(size['wall_s'])} | {size['requests']['median']:g} | "
                     f"{_figure(size['requests_per_s'])}; {_figure(size['active_requests_per_s'])} | "
                     f"{_figure(size['raw_requests_per_s'])} | "
                     f"{size['harness_to_raw']:.2f}; {size['active_to_raw']:.2f} | "
                     f"{_figure(size['peak_rss_mb'])} | {parallel_text} | {st_text} |")
    lines += ["", "scan time per check family, s (sum of item durations; median (min-max)):", ""]
    families = sorted({name for size in result["sizes"] for name in size["families_s"]})
    lines.append("| check | " + " | ".join(f"{size['operations']} ops" for size in result["sizes"]) + " |")
    lines.append("| --- |" + " --- |" * len(result["sizes"]))
    for name in families:
        cells = [_figure(size["families_s"][name]) if name in size["families_s"] else "-" for size in result["sizes"]]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if result.get("targets"):
        lines += ["", "issue 17 item 4 targets:"]
        for name, target in result["targets"].items():
            lines.append(f"  {name}: {target['value']} (limit {target['limit']}) "
                         f"{'met' if target['met'] else 'MISSED'}{_target_detail(target)}")
    if result.get("demo"):
        lines += ["", "demo (digasec demo; boot = wall - checks):"]
        for label, one in result["demo"].items():
            lines.append(f"  {label}: wall {one.get('wall_s')} s, checks {one.get('checks_s')} s "
                         f"(timing {one.get('timing_s')} s), boot and the rest {one.get('boot_and_rest_s')} s")
    return "\n".join(lines)


def _target_detail(target: dict[str, Any]) -> str:
    """Where a target judged at one of several sizes was measured, and its value at each (wall; active)."""
    if "by_size" not in target:
        return ""
    each = ", ".join(f"{operations}: {wall}; {active}" for operations, (wall, active) in target["by_size"].items())
    return f" at {target['at']} operations, the smallest; by size (wall; first to last request) {each}"


def bench(sizes: tuple[int, ...], runs: int, *, parallel: bool, schemathesis_examples: int, demo: bool,
          out_dir: Path) -> dict[str, Any]:
    """Measures every size (and the demo), writing the JSON after each one, so that an interrupted run keeps what
    it measured."""
    from fixtures import harness_commit

    result: dict[str, Any] = {"schema": "digasec/bench/v1", "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
                              "commit": harness_commit(), "runs": runs, "machine_before": machine(), "sizes": [],
                              "targets": {}, "demo": {}}
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{time.strftime('%Y-%m-%d-%H%M%S')}.json"

    def write() -> None:
        result.update(finished=time.strftime("%Y-%m-%dT%H:%M:%S"), machine_after=machine(),
                      targets=targets({one["operations"]: one for one in result["sizes"]}))
        path.write_text(json.dumps(result, indent=2) + "\n")

    with tempfile.TemporaryDirectory(prefix="digasec-bench-") as scratch:
        workdir = Path(scratch)
        for operations in sizes:
            size = SizeFigures(operations)
            with synthetic_server(operations) as base_url:
                for run in range(runs):
                    _progress(f"{operations} operations: scan {run + 1}/{runs}")
                    size.scans.append(scan(base_url, operations, workdir))
                    size.raw.append(raw_rate(base_url, size.scans[-1].requests))
                    if parallel and operations == PARALLEL_SIZE:
                        _progress(f"{operations} operations: scan {run + 1}/{runs} with -n 2")
                        size.parallel.append(scan(base_url, operations, workdir, workers=2))
                if schemathesis_examples:
                    _progress(f"{operations} operations: Schemathesis")
                    size.schemathesis = schemathesis(base_url, workdir, schemathesis_examples)
            result["sizes"].append(summarise(size))
            write()
        if demo:
            for label in ("cold", "warm"):
                _progress(f"demo ({label})")
                result["demo"][label] = demo_run(workdir)
                write()
    write()
    result["path"] = str(path)
    return result


def _progress(text: str) -> None:
    sys.stderr.write(f"bench: {text}\n")
    sys.stderr.flush()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="digasec bench", description="Measure digasec on synthetic APIs")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 1 run, 50 operations only, no -n 2, "
                             "Schemathesis with 1 example per operation")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (default 3; the median is shown)")
    parser.add_argument("--sizes", nargs="+", default=None,
                        help=f"operations per API, comma- or space-separated (default {','.join(map(str, SIZES))})")
    parser.add_argument("--no-schemathesis", action="store_true", help="leave out the Schemathesis comparison")
    parser.add_argument("--demo", action="store_true",
                        help="also `digasec demo` cold and warm (boots Keycloak: about a minute or more each)")
    parser.add_argument("--out", default=str(RESULTS), help="directory of the JSON result (default bench/results)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    sizes: tuple[int, ...] = QUICK_SIZES if args.quick else SIZES
    if args.sizes:
        sizes = tuple(int(value) for values in args.sizes for value in values.split(",") if value)
    runs = 1 if args.quick else args.runs
    if runs < 1:
        sys.stderr.write("digasec bench: --runs must be at least 1\n")
        return 2
    examples = 0 if args.no_schemathesis else QUICK_SCHEMATHESIS_EXAMPLES if args.quick else SCHEMATHESIS_EXAMPLES
    result = bench(sizes, runs, parallel=not args.quick, schemathesis_examples=examples, demo=args.demo,
                   out_dir=Path(args.out))
    sys.stdout.write(table(result) + f"\n\nwritten: {result['path']}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
