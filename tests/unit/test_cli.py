"""The command line's checks that run before a scan starts (no Keycloak, no backend)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fixtures.cli import EXIT_USAGE, main


def test_out_naming_an_existing_file_is_refused_before_the_scan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = tmp_path / "report.txt"
    taken.write_text("not a directory")
    assert main(["run", "--profile", "profiles/demo.yaml", "--out", str(taken)]) == EXIT_USAGE
    assert "exists and is not a directory" in capsys.readouterr().err


def test_out_below_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    taken = tmp_path / "file"
    taken.write_text("")
    assert main(["run", "--profile", "profiles/demo.yaml", "--out", str(taken / "sub")]) == EXIT_USAGE
    assert "is not a directory" in capsys.readouterr().err


def test_a_new_directory_is_acceptable() -> None:
    from fixtures.cli import _unusable_output

    assert _unusable_output(Path("/tmp/digasec-does-not-exist/out")) is None


def test_an_ignored_sigint_is_taken_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """A background job of a shell inherits SIGINT as ignored; the CLI must still clean up on Ctrl-C."""
    import signal

    monkeypatch.setattr(pytest, "main", lambda args: 0)
    original = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        main(["selftest", "tests/unit/test_cli.py"])
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, original)


def test_a_scan_switches_plugin_autoloading_off_only_while_pytest_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    from fixtures.cli import AUTOLOAD_SWITCH, _own_plugins_only

    monkeypatch.delenv(AUTOLOAD_SWITCH, raising=False)
    with _own_plugins_only():
        assert os.environ[AUTOLOAD_SWITCH] == "1"
    assert AUTOLOAD_SWITCH not in os.environ
    monkeypatch.setenv(AUTOLOAD_SWITCH, "")  # the caller's choice (empty: load every plugin) stays
    with _own_plugins_only():
        assert os.environ[AUTOLOAD_SWITCH] == ""
