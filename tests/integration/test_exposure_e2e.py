"""data_exposure on the demo: the planted flaws it must also find, nothing on the secure demo, no secret quoted."""

from __future__ import annotations

import pytest
import yaml

from tests.integration.conftest import PROJECT, Scan

pytestmark = pytest.mark.integration


def also_found_by(check: str) -> list[dict[str, str]]:
    """Ground-truth rows whose flaw `check` must find too, with the variant it finds them in."""
    rows = yaml.safe_load((PROJECT / "demo" / "ground_truth.yaml").read_text())
    return [{**row, "variant": also["variant"]} for row in rows for also in row.get("also_found_by", [])
            if also["check"] == check]


@pytest.mark.parametrize("flaw", also_found_by("data_exposure"), ids=lambda flaw: flaw["id"])
def test_each_planted_exposure_is_found(demo_scan: Scan, flaw: dict[str, str]) -> None:
    results = [r for r in demo_scan.results if (r["check"], r["method"], r["path"], r["variant"])
               == ("data_exposure", flaw["method"], flaw["path"], flaw["variant"])]
    assert [r["outcome"] for r in results] == ["fail"], results


def test_no_exposure_beyond_the_ground_truth(demo_scan: Scan) -> None:
    expected = {(f["method"], f["path"], f["variant"]) for f in also_found_by("data_exposure")}
    found = {(r["method"], r["path"], r["variant"]) for r in demo_scan.results
             if r["check"] == "data_exposure" and r["outcome"] in ("fail", "error")}
    assert found == expected


def test_every_operation_is_called_anonymously_and_read_only_ones_as_another_user(demo_scan: Scan) -> None:
    results = [r for r in demo_scan.results if r["check"] == "data_exposure"]
    anonymous = {(r["method"], r["path"]) for r in results if r["variant"] == "anonymous"}
    assert len(anonymous) == demo_scan.findings["run"]["operations"]
    other_user = [r for r in results if r["variant"] == "other_user"]
    assert other_user
    assert all(r["method"] == "GET" for r in other_user)
    applying = [r for r in results if r.get("applies", True)]  # not: operations and objects of a higher role only
    decided = [r for r in applying if r["outcome"] in ("pass", "fail")]
    assert len(decided) >= 0.9 * len(applying), [r["reason"] for r in applying if r["outcome"] == "skip"]


def test_the_secure_demo_exposes_nothing(secure_scan: Scan) -> None:
    results = [r for r in secure_scan.results if r["check"] == "data_exposure"]
    assert results
    assert [r for r in results if r["outcome"] in ("fail", "error")] == []
