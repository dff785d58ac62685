"""The CLI's exit code is the verdict of findings.json; a bug of the harness exits 5 with one line and a log;
the profile's `gate:` section (no Keycloak, no backend: findings are written by the writers directly)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from fixtures.cli import (
    EXIT_BOOT,
    EXIT_FINDINGS,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_NOT_TESTED,
    EXIT_OK,
    INTERNAL_ERROR_LOG,
    HarnessBug,
    _gate,
    _InternalErrorTrap,
    internal_error,
)
from fixtures.errors import ProfileError
from fixtures.target.profile import load_profile
from reports import Outcome, ResultRecord, Severity, write_findings


def _findings(out: Path, run: dict[str, Any], outcomes: list[str]) -> Path:
    results = [
        ResultRecord(check="invalid_token", method="GET", path=f"/x/{n}", outcome=Outcome(o), severity=Severity.HIGH)
        for n, o in enumerate(outcomes)
    ]
    return write_findings(out, {"id": "r", "operations": 3, "fail_on": "low", **run}, results)


def _args(fail_on: str = "low") -> argparse.Namespace:
    return argparse.Namespace(fail_on=fail_on)


@pytest.mark.parametrize(
    ("run", "outcomes", "code"),
    [
        ({}, ["pass", "pass", "skip"], EXIT_OK),
        ({}, ["pass", "fail"], EXIT_FINDINGS),
        ({}, ["pass", "error"], EXIT_FINDINGS),
        ({}, ["pass", "skip", "skip", "skip"], EXIT_NOT_TESTED),
        ({"operations": 0}, ["skip"], EXIT_NOT_TESTED),
        ({"not_tested": [{"code": "no_baseline", "detail": "user1"}]}, ["pass"], EXIT_NOT_TESTED),
        ({"aborted": "the backend went away"}, ["pass"], EXIT_BOOT),
        ({"interrupted": True}, ["pass"], EXIT_INTERRUPTED),
    ],
)
def test_the_gate_exits_with_the_verdicts_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], run: dict[str, Any], outcomes: list[str], code: int
) -> None:
    assert _gate(_findings(tmp_path, run, outcomes), _args(), gate=True) == code
    printed = capsys.readouterr()
    if code:
        assert "digasec: verdict " in printed.err
    else:
        assert "digasec: verdict PASSED" in printed.out


def test_the_verdict_reasons_are_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _gate(_findings(tmp_path, {}, ["pass", "skip", "skip", "skip"]), _args(), gate=True)
    err = capsys.readouterr().err
    assert "digasec: verdict NOT TESTED" in err
    assert "1 of 4 applicable items got a verdict (25 %), below gate.min_coverage 50 %" in err


def test_fail_on_raises_the_threshold(tmp_path: Path) -> None:
    assert _gate(_findings(tmp_path, {}, ["pass", "fail"]), _args("critical"), gate=True) == EXIT_OK


@pytest.mark.parametrize(
    ("run", "code"),
    [({}, EXIT_OK), ({"aborted": "gone"}, EXIT_BOOT), ({"interrupted": True}, EXIT_INTERRUPTED)],
)
def test_the_demo_exits_0_for_findings_but_not_for_a_broken_run(tmp_path: Path, run: dict[str, Any], code: int) -> None:
    assert _gate(_findings(tmp_path, run, ["fail", "error", "skip"]), argparse.Namespace(), gate=False) == code


def test_an_internal_error_is_one_line_and_a_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def buggy() -> None:
        raise ValueError("no such field\nsecond line")

    with pytest.raises(ValueError, match="no such field") as caught:
        buggy()
    assert internal_error(caught.value, tmp_path / "out") == EXIT_INTERNAL
    err = capsys.readouterr().err
    log = tmp_path / "out" / INTERNAL_ERROR_LOG
    assert err == f"digasec: internal error: ValueError: no such field; traceback in {log}\n"
    text = log.read_text()
    assert "Traceback (most recent call last)" in text
    assert "in buggy" in text


def test_an_internal_error_without_output_directory_logs_to_a_temporary_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert internal_error(RuntimeError("boom"), None) == EXIT_INTERNAL
    line = capsys.readouterr().err.strip()
    assert line.startswith("digasec: internal error: RuntimeError: boom; traceback in ")
    log = Path(line.rsplit("traceback in ", 1)[1])
    try:
        assert "RuntimeError: boom" in log.read_text()
    finally:
        log.unlink()


class _BuggyPlugin:
    @pytest.hookimpl(trylast=True)  # as the digasec plugin's boot: after the terminal reporter is there
    def pytest_configure(self, config: pytest.Config) -> None:
        raise ZeroDivisionError("a bug in the boot")


def test_a_bug_inside_pytest_leaves_pytest_main_as_a_harness_bug(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without the trap pytest would print INTERNALERROR lines and exit 3, the code of a failed boot."""
    (tmp_path / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
    with pytest.raises(HarnessBug) as caught:
        pytest.main([str(tmp_path), "-q", "-p", "no:cacheprovider"],
                    plugins=[_InternalErrorTrap(tmp_path / "out"), _BuggyPlugin()])
    assert isinstance(caught.value.error, ZeroDivisionError)
    assert caught.value.out == tmp_path / "out"
    printed = capsys.readouterr()
    assert "INTERNALERROR" not in printed.out + printed.err


# -- the profile's gate section ----------------------------------------------------------------------------
PROFILE = """\
name: t
environment: ci
launcher: external
backend: {base_url: "http://127.0.0.1:9"}
identity: {provider: tokens, tokens: ["${T1}", "${T2}"]}
"""


def _profile(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(PROFILE + extra)
    return path


def test_gate_min_coverage_defaults_to_half(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T1", "a")
    monkeypatch.setenv("T2", "b")
    profile = load_profile(_profile(tmp_path, ""))
    assert profile.gate.min_coverage == 0.5


@pytest.mark.parametrize("value", ["-0.1", "1.5"])
def test_gate_min_coverage_out_of_range_is_a_profile_error(
    tmp_path: Path, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("T1", "a")
    monkeypatch.setenv("T2", "b")
    with pytest.raises(ProfileError, match=r"gate\.min_coverage"):
        load_profile(_profile(tmp_path, f"gate: {{min_coverage: {value}}}\n"))


def test_an_unknown_gate_key_suggests_the_right_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T1", "a")
    monkeypatch.setenv("T2", "b")
    with pytest.raises(ProfileError, match="did you mean 'min_coverage'"):
        load_profile(_profile(tmp_path, "gate: {min_coverag: 0.2}\n"))
