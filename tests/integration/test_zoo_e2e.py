"""digasec against the zoo (tests/targets): backends with their own login, no Keycloak anywhere.

Each target runs in a planted and a clean variant, scanned once per session with its own profile (written from
the README's backend_api example, without a `keycloak:` section). Planted: every flaw of the target's
ground_truth.yaml is a `fail` for its check, method and path. Clean: no account-existence fail, no fail for a
planted flaw's check and operation, and no fail at all. Both: the scan boots without Keycloak, no
`enumerable_id` finding is about values the harness chose itself (its `digasec-...` usernames and e-mails), and
the test identities survive the checks, so that cleanup removes every account and object. No target's profile has
a recipe: on each, at least 95 % of the cross-user items that apply get a pass or a fail.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.conftest import TIMING_CHECK, Scan, run_cli
from tests.targets import TARGETS
from tests.targets.common import CLEAN, PLANTED, PRE_EXISTING_ENV, VARIANTS
from tests.targets.runner import ground_truth, profile_path

pytestmark = pytest.mark.integration
ACCOUNT_CHECKS = ("account_existence_leak", "account_existence_timing")
HARNESS_PREFIX = "digasec-"  # the run tag starts every username and e-mail the harness registers
# The timing check runs in scans of its own (`zoo_timing_scan`, the selftest's `timing` lane: response times are
# measured with nothing else running); `zoo_scan` runs every other check.
FLAWS = [(name, flaw) for name in TARGETS for flaw in ground_truth(name) if flaw["check"] != TIMING_CHECK]
TIMING_FLAWS = [(name, flaw) for name in TARGETS for flaw in ground_truth(name) if flaw["check"] == TIMING_CHECK]
# No target's profile has a recipe: the harness must work out from the OpenAPI document alone how their objects are
# created (client-chosen keys, PUT-create, nesting, a trailing-slash collection; issue 14).
WITHOUT_RECIPES = TARGETS
CROSS_USER_CHECKS = ("cross_user_read", "cross_user_write", "cross_user_delete")


def _zoo_scans(tmp_path_factory: pytest.TempPathFactory, selection: str, label: str
               ) -> Callable[[str, str], Scan]:
    scans: dict[tuple[str, str], Scan] = {}

    def scan(name: str, variant: str) -> Scan:
        if (name, variant) not in scans:
            out = tmp_path_factory.mktemp(f"zoo-{label}{name}-{variant}")
            scans[name, variant] = run_cli("run", "--profile", str(profile_path(name, variant)), "--", "-k",
                                           selection, out=out, env={PRE_EXISTING_ENV: str(pre_existing_file(out))})
        return scans[name, variant]

    return scan


@pytest.fixture(scope="session")
def zoo_scan(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Scan]:
    """`digasec run --profile <target's profile>` without the timing check, once per target and variant."""
    return _zoo_scans(tmp_path_factory, f"not {TIMING_CHECK}", "")


@pytest.fixture(scope="session")
def zoo_timing_scan(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Scan]:
    """The timing check alone, once per target and variant."""
    return _zoo_scans(tmp_path_factory, TIMING_CHECK, "timing-")


def pre_existing_file(out: Path) -> Path:
    """Where a target with data of its own records it before and after the scan (beside the output directory)."""
    return out.with_name(f"{out.name}-pre-existing.json")


# Targets with accounts and content of their own that exist before a scan (tests/targets/common.record_pre_existing).
WITH_PRE_EXISTING_DATA = ("role_desk",)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", WITH_PRE_EXISTING_DATA)
def test_data_the_harness_did_not_create_is_unchanged(zoo_scan: Callable[[str, str], Scan], name: str,
                                                      variant: str) -> None:
    scan = zoo_scan(name, variant)
    scanned(scan)
    recorded = json.loads(pre_existing_file(scan.out).read_text())
    assert recorded["before"]["items"], recorded
    assert recorded["before"]["accounts"], recorded
    assert recorded["after"] == recorded["before"], recorded


def scanned(scan: Scan) -> dict[str, Any]:
    """findings.json, or a test failure that shows how the run ended (a profile or boot error writes none)."""
    path = scan.out / "findings.json"
    if not path.is_file():
        pytest.fail(f"no findings.json (exit {scan.exit_code}); console:\n{scan.console[-3000:]}")
    findings: dict[str, Any] = json.loads(path.read_text())
    return findings


def matching(results: list[dict[str, Any]], check: str, method: str, path: str) -> list[dict[str, Any]]:
    return [r for r in results if (r["check"], r["method"], r["path"]) == (check, method, path)]


def describe(results: list[dict[str, Any]]) -> str:
    return "\n".join(f"  {r['outcome']}: {r.get('message') or r.get('reason') or ''}"[:400] for r in results) or (
        "  (no result at all: the operation was not taken as in scope)")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", TARGETS)
def test_profile_without_keycloak_scans_the_target(
    name: str, variant: str, zoo_scan: Callable[[str, str], Scan]
) -> None:
    assert "keycloak" not in yaml.safe_load(profile_path(name, variant).read_text())
    scan = zoo_scan(name, variant)
    assert scan.exit_code in (0, 1), f"exit {scan.exit_code}:\n{scan.console[-3000:]}"
    if variant == PLANTED:
        assert scan.exit_code == 1, "the planted variant's findings must fail the gate"
    target = scanned(scan)["run"]["target"]
    assert not target.get("keycloak_url"), target
    assert "backend itself" in str(target.get("token_issuer", "")), target


def planted_is_a_fail(scan: Scan, flaw: dict[str, str]) -> None:
    results = matching(scanned(scan)["results"], flaw["check"], flaw["method"], flaw["path"])
    assert any(r["outcome"] == "fail" for r in results), (
        f"{flaw['check']} {flaw['method']} {flaw['path']} ({flaw['description']}) is not a fail:\n{describe(results)}")


def clean_has_no_fail_for(scan: Scan, flaw: dict[str, str]) -> None:
    results = matching(scanned(scan)["results"], flaw["check"], flaw["method"], flaw["path"])
    assert results, f"{flaw['check']} {flaw['method']} {flaw['path']} has no result on the clean variant"
    assert not [r for r in results if r["outcome"] == "fail"], describe(results)


@pytest.mark.parametrize(("name", "flaw"), FLAWS, ids=[f"{name}-{flaw['id']}" for name, flaw in FLAWS])
def test_planted_flaw_is_a_fail(name: str, flaw: dict[str, str], zoo_scan: Callable[[str, str], Scan]) -> None:
    planted_is_a_fail(zoo_scan(name, PLANTED), flaw)


@pytest.mark.parametrize(("name", "flaw"), TIMING_FLAWS, ids=[f"{name}-{flaw['id']}" for name, flaw in TIMING_FLAWS])
def test_planted_timing_flaw_is_a_fail(name: str, flaw: dict[str, str],
                                       zoo_timing_scan: Callable[[str, str], Scan]) -> None:
    planted_is_a_fail(zoo_timing_scan(name, PLANTED), flaw)


@pytest.mark.parametrize(("name", "flaw"), FLAWS, ids=[f"{name}-{flaw['id']}" for name, flaw in FLAWS])
def test_clean_variant_has_no_fail_for_a_planted_flaw(
    name: str, flaw: dict[str, str], zoo_scan: Callable[[str, str], Scan]
) -> None:
    clean_has_no_fail_for(zoo_scan(name, CLEAN), flaw)


@pytest.mark.parametrize(("name", "flaw"), TIMING_FLAWS, ids=[f"{name}-{flaw['id']}" for name, flaw in TIMING_FLAWS])
def test_clean_variant_has_no_fail_for_a_planted_timing_flaw(
    name: str, flaw: dict[str, str], zoo_timing_scan: Callable[[str, str], Scan]
) -> None:
    clean_has_no_fail_for(zoo_timing_scan(name, CLEAN), flaw)


@pytest.mark.parametrize("name", TARGETS)
def test_clean_variant_has_no_timing_fail(name: str, zoo_timing_scan: Callable[[str, str], Scan]) -> None:
    """The timing scan of the clean variant: items that ran, no fail, a passing gate, nothing left behind."""
    scan = zoo_timing_scan(name, CLEAN)
    results = [r for r in scanned(scan)["results"] if r["check"] == TIMING_CHECK]
    assert [r for r in results if r["outcome"] == "pass"], f"no timing item ran:\n{describe(results)}"
    fails = [r for r in results if r["outcome"] == "fail"]
    assert not fails, "\n".join(f"{r['method']} {r['path']}: {r.get('message')}"[:400] for r in fails)
    assert scan.exit_code == 0, scan.console[-3000:]
    assert not scanned(scan)["run"].get("cleanup_problems"), scanned(scan)["run"]["cleanup_problems"]


@pytest.mark.parametrize("name", TARGETS)
def test_clean_variant_has_no_account_existence_fail(name: str, zoo_scan: Callable[[str, str], Scan]) -> None:
    results = [r for r in scanned(zoo_scan(name, CLEAN))["results"] if r["check"] in ACCOUNT_CHECKS]
    # "no fail" means something only if the checks ran: the backend's own registration gives them accounts
    assert [r for r in results if r["outcome"] == "pass"], f"no account-existence item ran:\n{describe(results)}"
    fails = [r for r in results if r["outcome"] == "fail"]
    assert not fails, "\n".join(f"{r['check']} {r['method']} {r['path']}: {r.get('message')}" for r in fails)


@pytest.mark.parametrize("name", TARGETS)
def test_clean_variant_has_no_fail_at_all(name: str, zoo_scan: Callable[[str, str], Scan]) -> None:
    """A clean target gives the gate nothing: any fail is a false positive of the harness or a flaw of the target
    that its ground truth does not know."""
    scan = zoo_scan(name, CLEAN)
    fails = [r for r in scanned(scan)["results"] if r["outcome"] == "fail"]
    assert not fails, "\n".join(f"{r['check']} {r['method']} {r['path']}: {r.get('message')}"[:400] for r in fails)
    assert scan.exit_code == 0, scan.console[-3000:]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", TARGETS)
def test_no_enumerable_id_finding_about_values_the_harness_chose(
    name: str, variant: str, zoo_scan: Callable[[str, str], Scan]
) -> None:
    findings = scanned(zoo_scan(name, variant))
    chosen = [HARNESS_PREFIX, *([findings["run"]["run_tag"]] if findings["run"].get("run_tag") else [])]
    about_ours = [r for r in findings["results"] if r["check"] == "enumerable_id" and r["outcome"] == "fail"
                  and any(value in str(r.get("message", "")) for value in chosen)]
    assert not about_ours, "\n".join(f"{r['method']} {r['path']}: {r['message']}"[:400] for r in about_ours)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", TARGETS)
def test_test_identities_survive_the_checks_and_cleanup_removes_everything(
    name: str, variant: str, zoo_scan: Callable[[str, str], Scan]
) -> None:
    """Every target offers account deletion, so nothing needs to stay behind; a test user that cannot log in at
    cleanup was broken by a check (e.g. its own account deleted or its e-mail changed by a check request)."""
    problems = scanned(zoo_scan(name, variant))["run"].get("cleanup_problems", [])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", WITHOUT_RECIPES)
def test_cross_user_items_get_a_verdict_without_recipes(
    name: str, variant: str, zoo_scan: Callable[[str, str], Scan]
) -> None:
    """At least 95 % of the cross-user items are a pass or a fail although the profile names no recipe."""
    assert "recipes" not in yaml.safe_load(profile_path(name, variant).read_text())
    results = [r for r in scanned(zoo_scan(name, variant))["results"]
               if r["check"] in CROSS_USER_CHECKS and r.get("applies", True)]  # a public read has nobody to attack
    decided = [r for r in results if r["outcome"] in ("pass", "fail")]
    assert results
    undecided = Counter(f"{r['check']} {r['method']} {r['path']}: {r['outcome']}: {r.get('reason') or ''}"[:300]
                        for r in results if r["outcome"] not in ("pass", "fail"))
    assert len(decided) >= 0.95 * len(results), f"{len(decided)} of {len(results)} cross-user items decided:\n" + (
        "\n".join(f"  {count} x {what}" for what, count in undecided.most_common()))


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", TARGETS)
def test_own_tokens_are_one_idp_established_note(name: str, variant: str,
                                                 zoo_scan: Callable[[str, str], Scan]) -> None:
    """No Keycloak: the realm audit does not apply, and idp_established passes with a note naming the issuer and
    what its credentials are (the profile does not ask for a finding)."""
    results = [r for r in scanned(zoo_scan(name, variant))["results"] if r["check"].startswith("idp_")]
    established = [r for r in results if r["check"] == "idp_established"]
    assert [r["outcome"] for r in established] == ["pass"], established
    assert "issues the credentials (" in established[0]["note"]
    assert all(r["outcome"] == "skip" and r.get("applies") is False for r in results if r not in established)
