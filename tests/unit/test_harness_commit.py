"""The commit a report names: HEAD, marked where the checkout's tracked files were changed since."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from fixtures import MODIFIED, commit_of

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _git(root: Path, *arguments: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.org", *arguments],
                   check=True, capture_output=True)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    _git(tmp_path, "init", "-q")
    (tmp_path / "code.py").write_text("x = 1\n")
    _git(tmp_path, "add", "code.py")
    _git(tmp_path, "commit", "-q", "-m", "first")
    return tmp_path


def test_a_clean_checkout_names_its_head(checkout: Path) -> None:
    head = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert commit_of(checkout) == head[:12]


def test_a_changed_tracked_file_marks_the_commit(checkout: Path) -> None:
    (checkout / "code.py").write_text("x = 2\n")
    assert re.fullmatch(r"[0-9a-f]{12}" + re.escape(MODIFIED), commit_of(checkout))


def test_an_untracked_file_does_not(checkout: Path) -> None:
    (checkout / "report.html").write_text("<html>")  # a scan's output beside the code
    assert re.fullmatch(r"[0-9a-f]{12}", commit_of(checkout))


def test_no_checkout_is_unknown(tmp_path: Path) -> None:
    assert commit_of(tmp_path) == "unknown"
