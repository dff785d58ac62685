"""The cross-user checks find the demo's planted flaws, nothing on the secure demo, and cover the item operations."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import Scan, ground_truth

pytestmark = pytest.mark.integration
CROSS_USER_CHECKS = (
    "cross_user_read",
    "cross_user_write",
    "cross_user_delete",
    "cross_user_listing",
    "existence_oracle",
    "enumerable_id",
)
STATE_CHECKS = ("cross_user_read", "cross_user_write", "cross_user_delete")
PAIRS = {"user2->user1", "user3->user1", "user1->user2", "user3->user2", "user1->user3", "user2->user3"}
# the demo's higher roles (identity.roles) read user1's objects as well (tests/integration/test_roles_e2e.py)
ROLE_PAIRS = {"therapist-1->user1", "admin-1->user1"}


def results(scan: Scan, *checks: str) -> list[dict[str, Any]]:
    return [r for r in scan.results if r["check"] in checks]


def item_operations(scan: Scan) -> set[tuple[str, str]]:
    """The backend's operations that name an object or a user in their path. unauthenticated_access has an item for
    every operation of the backend's OpenAPI document (other checks add Keycloak's endpoints, which are not)."""
    return {(r["method"], r["path"]) for r in results(scan, "unauthenticated_access") if "{" in r["path"]}


@pytest.mark.parametrize("flaw", ground_truth(*CROSS_USER_CHECKS), ids=lambda flaw: flaw["id"])
def test_each_planted_flaw_is_found(demo_scan: Scan, flaw: dict[str, str]) -> None:
    fails = {(c, m, p) for c, m, p, outcome in demo_scan.outcomes(*CROSS_USER_CHECKS) if outcome == "fail"}
    assert (flaw["check"], flaw["method"], flaw["path"]) in fails, demo_scan.console[-3000:]


# a therapist's read of a patient it does not care for: only the higher role can call it (test_roles_e2e.py)
BETWEEN_PATIENTS = [flaw for flaw in ground_truth(*STATE_CHECKS) if flaw["id"] != "therapist_reads_unassigned_patient"]


@pytest.mark.parametrize("flaw", BETWEEN_PATIENTS, ids=lambda flaw: flaw["id"])
def test_a_cross_user_flaw_is_found_for_every_ordered_pair_of_users(demo_scan: Scan, flaw: dict[str, str]) -> None:
    found = {r["variant"] for r in results(demo_scan, flaw["check"])
             if (r["method"], r["path"]) == (flaw["method"], flaw["path"]) and r["outcome"] == "fail"}
    assert found - ROLE_PAIRS == PAIRS


def test_no_false_finding_on_the_secure_demo(secure_scan: Scan) -> None:
    mine = results(secure_scan, *CROSS_USER_CHECKS)
    assert [r for r in mine if r["outcome"] in ("fail", "error")] == []
    for check in CROSS_USER_CHECKS:
        assert any(r["outcome"] == "pass" for r in mine if r["check"] == check), check


def test_no_error_on_the_demo(demo_scan: Scan) -> None:
    assert [r for r in results(demo_scan, *CROSS_USER_CHECKS) if r["outcome"] == "error"] == []


@pytest.mark.usefixtures("demo_scan", "secure_scan")  # the lane of the selftest follows the fixtures
@pytest.mark.parametrize("scan_name", ["demo_scan", "secure_scan"])
def test_nine_in_ten_item_operations_get_a_verdict(scan_name: str, request: pytest.FixtureRequest) -> None:
    scan: Scan = request.getfixturevalue(scan_name)
    by_operation: dict[tuple[str, str], list[str]] = {}
    # items that do not apply (objects only a higher role creates, operations only a higher role calls) need none
    for r in results(scan, *STATE_CHECKS):
        if r.get("applies", True):
            by_operation.setdefault((r["method"], r["path"]), []).append(r["outcome"])
    items = {op for op in item_operations(scan) if op in by_operation or not any(
        (r["method"], r["path"]) == op for r in results(scan, *STATE_CHECKS))}
    assert items
    judged = [op for op in items if by_operation.get(op) and all(o in ("pass", "fail") for o in by_operation[op])]
    assert len(judged) >= 0.9 * len(items), sorted(items - set(judged))


def test_every_in_scope_operation_has_an_item(demo_scan: Scan) -> None:
    # the backend's operations (the idp checks' items are Keycloak's admin API and token endpoint)
    operations = {(r["method"], r["path"]) for r in demo_scan.results if not r["check"].startswith("idp_")}
    listed = {(r["method"], r["path"]) for r in results(demo_scan, "cross_user_listing")}
    assert listed == {(m, p) for m, p in operations if m in ("GET", "HEAD", "OPTIONS")}
    for check in STATE_CHECKS:
        variants: dict[tuple[str, str], set[str]] = {}
        for r in results(demo_scan, check):
            variants.setdefault((r["method"], r["path"]), set()).add(r["variant"])
        assert variants, check
        expected = PAIRS | ROLE_PAIRS if check == "cross_user_read" else PAIRS
        assert all(found == expected for found in variants.values()), (check, variants)


def test_skips_say_why(demo_scan: Scan, secure_scan: Scan) -> None:
    for scan in (demo_scan, secure_scan):
        for r in results(scan, *CROSS_USER_CHECKS):
            if r["outcome"] == "skip":
                assert len(r["reason"]) > 30, r


def test_findings_carry_evidence_and_say_who_did_what(demo_scan: Scan) -> None:
    fails = [r for r in results(demo_scan, *CROSS_USER_CHECKS) if r["outcome"] == "fail"]
    assert fails
    for r in fails:
        assert r["evidence"], r
        assert r["message"], r
        for exchange in r["evidence"]:
            assert "eyJ" not in exchange["request"] + exchange["response"]
        if r["variant"]:
            attacker, victim = r["variant"].split("->")
            assert attacker in r["message"]
            assert victim in r["message"]


def test_the_existence_oracle_message_names_the_difference(demo_scan: Scan) -> None:
    (oracle,) = [r for r in results(demo_scan, "existence_oracle")
                 if r["outcome"] == "fail" and r["path"] == "/v1/questionnaire-responses/{response_id}"]
    assert "403 vs non-existent id → 404" in oracle["message"]


def test_everything_created_is_removed(demo_scan: Scan, secure_scan: Scan) -> None:
    assert demo_scan.findings["run"]["cleanup_problems"] == []
    assert secure_scan.findings["run"]["cleanup_problems"] == []


def test_parallel_run_gives_the_same_outcomes(demo_scan: Scan, parallel_scan: Scan) -> None:
    assert parallel_scan.outcomes(*CROSS_USER_CHECKS) == demo_scan.outcomes(*CROSS_USER_CHECKS)
