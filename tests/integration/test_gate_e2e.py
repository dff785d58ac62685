"""The CI gate with a baseline: accepting some findings keeps the gate closed, accepting all opens it, and an
expired acceptance closes it again. Scans run against the flawed demo on the shared staging system, limited to
the invalid_token check on the two operations where it has a planted flaw, so that they stay short."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import Scan, Staging, run_cli

pytestmark = pytest.mark.integration


def scan_with(staging: Staging, tmp_path: Path, name: str, *extra: str) -> Scan:
    profile = staging.profile(tmp_path, flawed=True)
    # the expired-token variant with one try only (its re-tries past exp are test_authentication_e2e's subject)
    profile.write_text(profile.read_text() + "checks:\n  expired_token_patience_s: 0\n")
    return run_cli("run", "--profile", str(profile), *extra, "--", "-k", "invalid_token and (diary or statistics)",
                   out=tmp_path / name, env=staging.credentials())


def fill(template: Path, target: Path, *, accept: int | None, expires: datetime.date) -> None:
    data = yaml.safe_load(template.read_text())
    entries = data["entries"][:accept] if accept is not None else data["entries"]
    for entry in entries:
        entry.update(justification="accepted for the test", owner="ci@example.org", expires=expires.isoformat())
    target.write_text(yaml.safe_dump({"schema": data["schema"], "entries": entries}, sort_keys=False))


def test_baseline_gate(staging: Staging, tmp_path: Path) -> None:
    first = scan_with(staging, tmp_path, "first")
    assert first.exit_code == 1, first.console[-2000:]
    fails = [r for r in first.results if r["outcome"] == "fail"]
    assert len(fails) >= 2

    template = tmp_path / "baseline-template.yaml"
    made = run_cli("baseline", str(first.out / "findings.json"), "-o", str(template))
    assert made.exit_code == 0, made.console
    assert len(yaml.safe_load(template.read_text())["entries"]) == len(fails)

    tomorrow = datetime.date.today() + datetime.timedelta(days=30)
    one = tmp_path / "one.yaml"
    fill(template, one, accept=1, expires=tomorrow)
    partly = scan_with(staging, tmp_path, "partly", "--baseline", str(one))
    assert partly.exit_code == 1, partly.console[-2000:]
    assert sum(r["outcome"] == "accepted" for r in partly.results) == 1

    everything = tmp_path / "all.yaml"
    fill(template, everything, accept=None, expires=tomorrow)
    accepted = scan_with(staging, tmp_path, "accepted", "--baseline", str(everything))
    assert accepted.exit_code == 0, accepted.console[-2000:]
    assert sum(r["outcome"] == "accepted" for r in accepted.results) == len(fails)
    html = (accepted.out / "report.html").read_text()
    assert "accepted for the test" in html

    expired = tmp_path / "expired.yaml"
    fill(template, expired, accept=None, expires=datetime.date.today() - datetime.timedelta(days=1))
    lapsed = scan_with(staging, tmp_path, "lapsed", "--baseline", str(expired))
    assert lapsed.exit_code == 1, lapsed.console[-2000:]
    assert all("expired" in r["message"] for r in lapsed.results if r["outcome"] == "fail")


def test_stale_baseline_entries_are_listed(staging: Staging, tmp_path: Path) -> None:
    stale = tmp_path / "stale.yaml"
    stale.write_text(yaml.safe_dump({"schema": "digasec/baseline/v1", "entries": [{
        "fingerprint": "0" * 64, "justification": "old", "owner": "ci@example.org", "expires": "2099-01-01"}]}))
    scan = scan_with(staging, tmp_path, "stale", "--baseline", str(stale))
    assert scan.exit_code == 1
    assert "stale entry" in scan.console
    assert json.loads((scan.out / "findings.json").read_text())["run"]["baseline"]["stale"] == ["0" * 64]


def test_broken_baseline_is_a_usage_error(staging: Staging, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("schema: digasec/baseline/v1\nentries:\n  - fingerprint: nope\n")
    scan = scan_with(staging, tmp_path, "broken", "--baseline", str(broken))
    assert scan.exit_code == 2, scan.console
    assert "baseline" in scan.console
