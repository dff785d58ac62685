"""A series of `account_existence_timing` runs against the flawed and the secure demo (issue 17, item 3).

Boots one Keycloak with the secure demo (the process launcher of profiles/demo-secure.yaml) and beside it the flawed
demo (every flaw planted), ONCE, then runs `digasec run --profile <external profile> -- -k account_existence_timing`
N times against each, alternating, and collects per run: each flow's outcome, the rounds it used, the check's own
seconds per flow (from the item's note or message), the run's wall time and the machine's load average. Writes
bench/results/timing-series-<date>.json and prints a table.

    .venv/bin/python -m bench.timing_series --runs 20
    .venv/bin/python -m bench.timing_series --runs 3 --project /tmp/base-clone --label before   # the old code

`--project` runs the CLI from another checkout (e.g. the base commit) against the same booted system: the "before"
figures of the same machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fixtures import commit_of
from fixtures.target.launchers.base import Environment, free_port, wait_until_ready
from fixtures.target.launchers.process import ManagedProcess, ProcessLauncher
from fixtures.target.profile import Profile, load_profile

PROJECT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT / "bench" / "results"
CHECK = "account_existence_timing"
PLANTED = ("POST", "/v1/auth/password-reset")  # demo/ground_truth.yaml: password_reset_timing
# "stopped after 10 of at most 30 interleaved rounds ..., 12.3 s, load ..." (new) or "30 interleaved rounds ..." (old)
ROUNDS_NEW = re.compile(r"stopped after (\d+) of at most (\d+) interleaved rounds")
ROUNDS_OLD = re.compile(r"\((\d+) interleaved rounds of \d+ cases after")
SECONDS = re.compile(r"warm-up rounds, ([\d.]+) s, load average")


def _shown(project: Path) -> str:
    """The checkout as the results file names it: "." for this one, else its directory's name (the commit says which
    code ran; a machine's paths stay out of the results)."""
    return "." if project.resolve() == PROJECT else project.resolve().name


def profile_text(env: Environment, base_url: str, name: str) -> str:
    return f"""
name: timing series ({name})
environment: ci
launcher: external
backend:
  base_url: {base_url}
  ready_path: /health
  openapi: /openapi.json
keycloak:
  url: {env.keycloak_url}
  realm: diga
  admin_username: ${{TEST_KC_ADMIN}}
  admin_password: ${{TEST_KC_ADMIN_PASSWORD}}
identity:
  users: 2
  audience: diga-api
"""


def flow_figures(result: dict[str, Any]) -> dict[str, Any]:
    text = " ".join(filter(None, (result.get("message"), result.get("note"), result.get("reason"))))
    rounds: int | None = None
    maximum: int | None = None
    if match := ROUNDS_NEW.search(text):
        rounds, maximum = int(match[1]), int(match[2])
    elif match := ROUNDS_OLD.search(text):
        rounds = maximum = int(match[1])
    seconds = SECONDS.search(text)
    return {"flow": f"{result['method']} {result['path']}", "outcome": result["outcome"],
            "severity": result.get("severity"), "rounds": rounds, "maximum": maximum,
            "seconds": float(seconds[1]) if seconds else None}


def login_client(profile: Profile) -> dict[str, str]:
    """The client the secure demo's own login asks Keycloak for tokens with (the hardened realm allows no password
    grant on the public app client): the flawed demo beside it needs the same, or its login refuses everyone."""
    return {name: value for name, value in profile.backend.env.items() if name.startswith("APP_CLIENT_")}


def stop_on_signals() -> None:
    """SIGINT and SIGTERM end the series through its `finally` (Keycloak and both backends stopped): a shell starts
    background jobs with SIGINT ignored, and SIGTERM would otherwise leave them running."""
    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)


def one_run(project: Path, profile: Path, out: Path, credentials: dict[str, str], select: str) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "fixtures.cli", "run", "--profile", str(profile), "--out", str(out), "--", "-k", select],
        cwd=project, capture_output=True, text=True, env={**os.environ, **credentials}, timeout=1800, check=False,
    )
    wall = time.monotonic() - started
    findings = out / "findings.json"
    flows = []
    if findings.is_file():
        flows = [flow_figures(r) for r in json.loads(findings.read_text())["results"] if r["check"] == CHECK]
    return {"exit_code": completed.returncode, "wall_s": round(wall, 1), "load_before": round(load_before, 2),
            "load_after": round(os.getloadavg()[0], 2), "check_s": round(sum(f["seconds"] or 0 for f in flows), 1),
            "flows": flows, "console_tail": completed.stdout[-400:] + completed.stderr[-400:] if not flows else ""}


def summarise(runs: list[dict[str, Any]], demo: str) -> dict[str, Any]:
    planted = f"{PLANTED[0]} {PLANTED[1]}"
    backend = [[f for f in run["flows"] if f["flow"].startswith("POST /v1/")] for run in runs]
    found = sum(any(f["flow"] == planted and f["outcome"] == "fail" for f in flows) for flows in backend)
    false = sum(any(f["outcome"] == "fail" and (demo == "secure" or f["flow"] != planted) for f in flows)
                for flows in backend)
    rounds: dict[str, list[int]] = {}
    outcomes: dict[str, dict[str, int]] = {}
    for run in runs:
        for f in run["flows"]:
            if f["rounds"] is not None:
                rounds.setdefault(f["flow"], []).append(f["rounds"])
            counts = outcomes.setdefault(f["flow"], {})
            counts[f["outcome"]] = counts.get(f["outcome"], 0) + 1
    checks = [run["check_s"] for run in runs]
    return {
        "runs": len(runs), "found_planted": found if demo == "flawed" else None, "false_backend_findings": false,
        "check_s": {"median": statistics.median(checks), "min": min(checks), "max": max(checks)} if checks else None,
        "rounds_per_flow": {flow: {"median": statistics.median(v), "min": min(v), "max": max(v)}
                            for flow, v in sorted(rounds.items())},
        "outcomes_per_flow": outcomes,
    }


def write(series: dict[str, Any], out: Path) -> None:
    """The series so far, with its summary (written after every run, so that a stopped series keeps its figures)."""
    series["summary"] = {demo: summarise(runs, demo) for demo, runs in series["runs"].items() if runs}
    if "before" in series:
        series["before"]["summary"] = {demo: summarise(runs, demo) for demo, runs in series["before"]["runs"].items()
                                       if runs}
    out.write_text(json.dumps(series, indent=1) + "\n")


def say(text: str, **_: Any) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def print_table(series: dict[str, Any]) -> None:
    for demo, summary in series["summary"].items():
        say(f"\n== {demo} demo: {summary['runs']} runs ({series['label']})")
        if summary["found_planted"] is not None:
            say(f"planted password-reset timing leak found {summary['found_planted']}/{summary['runs']}")
        say(f"runs with a false backend timing finding {summary['false_backend_findings']}/{summary['runs']}")
        if summary["check_s"]:
            c = summary["check_s"]
            say(f"check seconds (sum over flows): median {c['median']:.1f}, min {c['min']:.1f}, "
                f"max {c['max']:.1f}")
        say(f"{'flow':58} {'rounds med (min-max)':>22}  outcomes")
        for flow, outcome in summary["outcomes_per_flow"].items():
            r = summary["rounds_per_flow"].get(flow)
            shown = f"{r['median']:g} ({r['min']}-{r['max']})" if r else "-"
            say(f"{flow:58} {shown:>22}  {outcome}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--project", type=Path, default=PROJECT, help="the checkout whose CLI runs the scans")
    parser.add_argument("--label", default="after")
    parser.add_argument("--out", type=Path, help="the JSON file (default bench/results/timing-series-<date>.json)")
    parser.add_argument("--before", type=Path, help="another checkout (e.g. the base commit) whose runs alternate with "
                        "this one's against the same system, for a before/after comparison under the same load")
    parser.add_argument("--before-runs", type=int, default=3, help="how many of the iterations also run --before")
    parser.add_argument("--backend-only", action="store_true", help="only the backend's flows, not Keycloak's")
    args = parser.parse_args(argv)
    stop_on_signals()
    select = f"{CHECK} and not realms" if args.backend_only else CHECK
    out = args.out or RESULTS / f"timing-series-{dt.date.today().isoformat()}-{args.label}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="timing-series-"))
    secure = load_profile(PROJECT / "profiles" / "demo-secure.yaml")
    launcher = ProcessLauncher(secure, work)
    boot_started = time.monotonic()
    env = launcher.boot()
    port = free_port()
    flawed = ManagedProcess(
        "flawed-backend", [sys.executable, "-m", "demo", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "KEYCLOAK_URL": env.keycloak_url, "KEYCLOAK_REALM": "diga", "OIDC_AUDIENCE": "diga-api",
             "DATABASE_URL": f"sqlite:///{work}/flawed.db", "DEMO_FLAWS": "all", **login_client(secure)},
        cwd=PROJECT, log=work / "flawed-backend.log",
    )
    series: dict[str, Any] = {"label": args.label, "commit": commit_of(Path(args.project)),
                              "project": _shown(args.project),
                              "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                              "cores": os.cpu_count(), "select": select, "runs": {"flawed": [], "secure": []}}
    if args.before:
        series["before"] = {"project": _shown(args.before), "commit": commit_of(Path(args.before)),
                            "runs": {"flawed": [], "secure": []}}
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/health", timeout_s=60, what="flawed demo", alive=flawed.alive,
                         log_tail=flawed.log_tail)
        series["boot_s"] = round(time.monotonic() - boot_started, 1)
        assert env.admin is not None
        credentials = {"TEST_KC_ADMIN": env.admin.username, "TEST_KC_ADMIN_PASSWORD": env.admin.password}
        profiles = {}
        for demo, base_url in (("flawed", f"http://127.0.0.1:{port}"), ("secure", env.base_url)):
            profiles[demo] = work / f"{demo}.yaml"
            profiles[demo].write_text(profile_text(env, base_url, demo))
        for index in range(args.runs):
            projects = [("after", args.project)]
            if args.before and index < args.before_runs:
                projects.append(("before", args.before))
            for which, project in projects:
                for demo in ("flawed", "secure"):
                    run = one_run(project, profiles[demo], work / f"{which}-{demo}-{index}", credentials, select)
                    (series["before"] if which == "before" else series)["runs"][demo].append(run)
                    say(f"run {index + 1}/{args.runs} {which} {demo}: exit {run['exit_code']}, check {run['check_s']} "
                        f"s, wall {run['wall_s']} s, load {run['load_before']} -> {run['load_after']}; "
                        + ", ".join(f"{f['flow'].split(' ', 1)[1]} {f['outcome']}@{f['rounds']}" for f in run["flows"]))
                    write(series, out)
    finally:
        flawed.stop()
        launcher.stop()
    series["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    write(series, out)
    print_table(series)
    if "before" in series:
        print_table({"label": "before", "summary": series["before"]["summary"]})
    say(f"\nwritten: {out}")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        say("interrupted: the runs so far are in the results file")
        raise SystemExit(130) from None
