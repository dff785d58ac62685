"""`digasec selftest`: the paths it is given replace the default tests/ (so `selftest tests/unit` boots nothing);
with no test chosen, everything runs in lanes (fixtures/selftest_lanes.py, tests/conftest.py)."""

from __future__ import annotations

import pytest

from fixtures import PROJECT_ROOT, cli


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Each pytest session the selftest would start: its arguments (lanes: "LANES" and the arguments)."""
    seen: list[list[str]] = []
    monkeypatch.setattr(pytest, "main", lambda args: seen.append(list(args)) or 0)
    monkeypatch.setattr(cli, "_run_lanes", lambda extra: seen.append(["LANES", *extra]) or 0)
    monkeypatch.delenv("DIGASEC_SELFTEST_LANES", raising=False)
    monkeypatch.chdir(PROJECT_ROOT)
    return seen


def test_named_paths_replace_the_default(calls: list[list[str]]) -> None:
    assert cli.main(["selftest", "tests/unit", "-q"]) == 0
    assert str(PROJECT_ROOT / "tests") not in calls[0]
    assert calls[0][-2:] == ["tests/unit", "-q"]


def test_a_node_id_counts_as_a_path(calls: list[list[str]]) -> None:
    cli.main(["selftest", "tests/unit/test_reports_gate.py::test_no_results_pass"])
    assert str(PROJECT_ROOT / "tests") not in calls[0]


def test_without_paths_everything_runs_in_lanes(calls: list[list[str]]) -> None:
    cli.main(["selftest"])
    assert calls[0] == ["LANES"]
    cli.main(["selftest", "no-such-dir", "-k", "gate"])  # a word that names no path is an argument, not a path
    assert calls[1][0] == str(PROJECT_ROOT / "tests")  # -k chooses tests: one session


def test_options_may_come_first(calls: list[list[str]]) -> None:
    assert cli.main(["selftest", "-q", "-x"]) == 0
    assert calls[0] == ["LANES", "-q", "-x"]


@pytest.mark.parametrize("choice", [["-k", "gate"], ["-kgate"], ["-m", "integration"], ["--lf"], ["--deselect=x"]])
def test_a_choice_of_tests_runs_in_one_session(calls: list[list[str]], choice: list[str]) -> None:
    cli.main(["selftest", *choice])
    assert calls[0][0] == str(PROJECT_ROOT / "tests")


def test_lanes_can_be_switched_off(calls: list[list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGASEC_SELFTEST_LANES", "off")
    cli.main(["selftest", "-q"])
    assert calls[0][0] == str(PROJECT_ROOT / "tests")


def test_a_test_goes_to_the_lane_of_the_system_it_uses() -> None:
    from tests.conftest import lane_of, lanes_used

    assert lane_of(["tmp_path", "demo_scan", "secure_scan"]) == "scans"
    assert lane_of(["timing_scans"]) == "timing"
    assert lane_of(["staging", "tmp_path"]) == "rest"
    assert lane_of(["tmp_path"]) == "rest"  # unit tests and tests that boot their own system
    assert lanes_used(["demo_scan", "timing_scans"]) == {"scans", "timing"}  # collection refuses such a test


def _fake_lanes(monkeypatch: pytest.MonkeyPatch, codes: dict[str, int]) -> None:
    import subprocess
    import sys

    from fixtures import selftest_lanes

    def start(lane: str, tests: object, rootdir: object, extra: object) -> subprocess.Popen[str]:
        script = f"print('collected in {lane}'); raise SystemExit({codes[lane]})"
        return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)

    monkeypatch.setattr(selftest_lanes, "_start", start)


def test_lanes_stream_their_output_and_any_failing_lane_fails(monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from fixtures.selftest_lanes import run_in_lanes

    _fake_lanes(monkeypatch, {"scans": 0, "rest": 0, "timing": 0})
    assert run_in_lanes(PROJECT_ROOT / "tests", PROJECT_ROOT, []) == 0
    out = capsys.readouterr().out
    assert "[scans] collected in scans" in out
    assert "[timing] collected in timing" in out
    _fake_lanes(monkeypatch, {"scans": 0, "rest": 5, "timing": 1})  # pytest's 5: no test collected, a failure
    assert run_in_lanes(PROJECT_ROOT / "tests", PROJECT_ROOT, []) == 5
