"""The role checks on the demo (patients < therapists < administrators, realm roles the harness assigns to users it
creates in the real Keycloak): every planted role flaw is a fail on the flawed demo and none on the secure one.
Folded into the session's demo scans (no scan of its own)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Scan, ground_truth

pytestmark = pytest.mark.integration
ROLE_CHECKS = ("function_level_access", "mass_assignment")
ROLE_FLAWS = ("exercise_delete_without_role", "therapist_reads_unassigned_patient", "profile_role_escalation")
DEMO_ROLES = ["patient", "therapist", "admin"]


def role_flaws() -> list[dict[str, str]]:
    return [flaw for flaw in ground_truth(*ROLE_CHECKS, "cross_user_read") if flaw["id"] in ROLE_FLAWS]


def results_of(scan: Scan, flaw: dict[str, str]) -> list[dict[str, Any]]:
    return [r for r in scan.results if (r["check"], r["method"], r["path"]) == (flaw["check"], flaw["method"],
                                                                              flaw["path"])]


def test_every_role_flaw_has_a_ground_truth_row() -> None:
    assert sorted(flaw["id"] for flaw in role_flaws()) == sorted(ROLE_FLAWS)


@pytest.mark.parametrize("flaw", role_flaws(), ids=lambda flaw: flaw["id"])
def test_each_planted_role_flaw_is_found(demo_scan: Scan, flaw: dict[str, str]) -> None:
    assert any(r["outcome"] == "fail" for r in results_of(demo_scan, flaw)), demo_scan.console[-3000:]


@pytest.mark.parametrize("flaw", role_flaws(), ids=lambda flaw: flaw["id"])
def test_the_secure_demo_passes_where_a_role_flaw_is_planted(secure_scan: Scan, flaw: dict[str, str]) -> None:
    found = results_of(secure_scan, flaw)
    assert found
    assert [r for r in found if r["outcome"] in ("fail", "error")] == []
    assert any(r["outcome"] == "pass" for r in found)


def test_no_role_finding_at_all_on_the_secure_demo(secure_scan: Scan) -> None:
    mine = [r for r in secure_scan.results if r["check"] in ROLE_CHECKS]
    assert mine
    assert [r for r in mine if r["outcome"] in ("fail", "error")] == []


def test_the_therapist_is_the_attacker_of_the_unassigned_read(demo_scan: Scan) -> None:
    (flaw,) = [flaw for flaw in role_flaws() if flaw["id"] == "therapist_reads_unassigned_patient"]
    failed = {r["variant"] for r in results_of(demo_scan, flaw) if r["outcome"] == "fail"}
    assert "therapist-1->user1" in failed
    # the patients cannot call the therapist's operation at all: their pairs are no finding
    assert not {variant for variant in failed if variant.startswith("user")}


@pytest.mark.usefixtures("demo_scan", "secure_scan")  # the lane of the selftest follows the fixtures
@pytest.mark.parametrize("scan_name", ["demo_scan", "secure_scan"])
def test_the_access_matrix_shows_the_three_demo_roles(scan_name: str, request: pytest.FixtureRequest) -> None:
    scan: Scan = request.getfixturevalue(scan_name)
    html = (scan.out / "report.html").read_text(encoding="utf-8")
    records = [r for r in scan.results if r["check"] == "function_level_access" and r.get("access")]
    assert records
    assert all(r["access"]["roles"] == DEMO_ROLES for r in records)
    assert all(f">{role}<" in html for role in DEMO_ROLES)
