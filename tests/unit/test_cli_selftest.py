"""`digasec selftest`: the paths it is given replace the default tests/ (so `selftest tests/unit` boots nothing)."""

from __future__ import annotations

import pytest

from fixtures import PROJECT_ROOT, cli


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    seen: list[list[str]] = []
    monkeypatch.setattr(pytest, "main", lambda args: seen.append(list(args)) or 0)
    monkeypatch.chdir(PROJECT_ROOT)
    return seen


def test_named_paths_replace_the_default(calls: list[list[str]]) -> None:
    assert cli.main(["selftest", "tests/unit", "-q"]) == 0
    assert str(PROJECT_ROOT / "tests") not in calls[0]
    assert calls[0][-2:] == ["tests/unit", "-q"]


def test_a_node_id_counts_as_a_path(calls: list[list[str]]) -> None:
    cli.main(["selftest", "tests/unit/test_reports_gate.py::test_no_results_pass"])
    assert str(PROJECT_ROOT / "tests") not in calls[0]


def test_without_paths_everything_runs(calls: list[list[str]]) -> None:
    cli.main(["selftest"])
    assert calls[0][0] == str(PROJECT_ROOT / "tests")
    cli.main(["selftest", "no-such-dir", "-k", "gate"])  # a word that names no path is an argument, not a path
    assert calls[1][0] == str(PROJECT_ROOT / "tests")


def test_options_may_come_first(calls: list[list[str]]) -> None:
    assert cli.main(["selftest", "-q", "-x"]) == 0
    assert str(PROJECT_ROOT / "tests") in calls[0]
    assert calls[0][-2:] == ["-q", "-x"]
