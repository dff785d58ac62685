"""The interoperable export on the demo (the session's shared scans): every planted export flaw is found, the secure
demo's export is valid by both validators and holds only the caller's data, the export is covered by the
authentication and cross-user checks like any other operation, and the report shows the validators' verdicts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Scan, ground_truth

pytestmark = pytest.mark.integration
EXPORT_CHECKS = ("fhir_export_valid", "fhir_export_own_data")
EXPORT = ("GET", "/v1/export/fhir")
# what each planted export flaw looks like in the validators' first errors (both validators for the structure)
SIGNS = {
    "fhir_export_invalid_structure": {"structure": "resource.status", "hapi": "Observation.status: minimum required"},
    "fhir_export_missing_code_system": {"structure": "has no code system"},
}


def export_results(scan: Scan, check: str) -> dict[str | None, dict[str, Any]]:
    return {r["variant"]: r for r in scan.results if r["check"] == check and (r["method"], r["path"]) == EXPORT}


@pytest.mark.parametrize("flaw", ground_truth(*EXPORT_CHECKS), ids=lambda flaw: flaw["id"])
def test_each_planted_export_flaw_is_found(demo_scan: Scan, flaw: dict[str, str]) -> None:
    results = export_results(demo_scan, flaw["check"])
    assert results, demo_scan.console[-3000:]
    assert any(r["outcome"] == "fail" for r in results.values()), results
    for variant, sign in SIGNS.get(flaw["id"], {}).items():
        first = results[variant]["export"]["first"]
        assert any(sign in f"{issue['location']} {issue['message']}" for issue in first), (variant, first)


def test_the_foreign_entry_is_named_with_its_owner_and_place(demo_scan: Scan) -> None:
    (result,) = export_results(demo_scan, "fhir_export_own_data").values()
    assert result["outcome"] == "fail"
    assert "canary at Bundle.entry[" in result["message"], result["message"]
    assert result["severity"] == "high"


def test_the_secure_export_is_valid_by_both_validators_and_only_the_callers(secure_scan: Scan) -> None:
    valid = export_results(secure_scan, "fhir_export_valid")
    assert set(valid) == {"structure", "hapi"}
    for variant, result in valid.items():
        assert result["outcome"] == "pass", (variant, result)
        assert result["export"]["verdict"] == "valid"
        assert result["export"]["errors"] == 0
        assert result["export"]["bundle_type"] == "collection"
    (own,) = export_results(secure_scan, "fhir_export_own_data").values()
    assert own["outcome"] == "pass", own
    assert "1 patient(s)" in own["note"]


@pytest.mark.parametrize("check", ["unauthenticated_access", "invalid_token", "cross_user_listing", "data_exposure"])
def test_the_export_is_covered_like_any_operation(secure_scan: Scan, check: str) -> None:
    results = export_results(secure_scan, check)
    assert results, check
    assert all(r["outcome"] == "pass" for r in results.values()), results


def test_the_report_shows_the_validators_verdicts(demo_scan: Scan, secure_scan: Scan) -> None:
    flawed = (demo_scan.out / "report.html").read_text()
    assert 'id="export"' in flawed
    assert "Observation.status: minimum required = 1" in flawed
    secure = (secure_scan.out / "report.html").read_text()
    assert "HAPI FHIR instance validator (R4)" in secure
