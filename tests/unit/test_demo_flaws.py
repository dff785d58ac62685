"""The demo's flaw switches (DEMO_FLAWS) and their ground truth."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from demo.flaws import FLAW_IDS, Flaws, UnknownFlawError, parse_flaws

GROUND_TRUTH = Path(__file__).resolve().parents[2] / "demo" / "ground_truth.yaml"
CHECK_IDS = {
    "unauthenticated_access",
    "invalid_token",
    "cross_user_read",
    "cross_user_write",
    "cross_user_delete",
    "cross_user_listing",
    "existence_oracle",
    "enumerable_id",
    "account_existence_leak",
    "account_existence_timing",
    "function_level_access",
    "mass_assignment",
    "data_exposure",
    "fhir_export_valid",
    "fhir_export_own_data",
}


@pytest.mark.parametrize("value", [None, "", "  ", "none", "NONE", " none "])
def test_none_switches_everything_off(value: str | None) -> None:
    flaws = parse_flaws(value)
    assert flaws.active == frozenset()
    assert not any(flaws.enabled(flaw_id) for flaw_id in FLAW_IDS)
    assert flaws.describe() == "none"


@pytest.mark.parametrize("value", ["all", "All", " all "])
def test_all_switches_everything_on(value: str) -> None:
    flaws = parse_flaws(value)
    assert flaws.active == frozenset(FLAW_IDS)
    assert flaws.describe() == "all"


def test_comma_separated_ids_with_blanks() -> None:
    flaws = parse_flaws(" reminder_list_leak , diary_item_idor_read,,")
    assert flaws.active == {"reminder_list_leak", "diary_item_idor_read"}
    assert flaws.enabled("reminder_list_leak")
    assert not flaws.enabled("password_reset_timing")
    assert flaws.describe() == "diary_item_idor_read,reminder_list_leak"


def test_unknown_id_is_named_and_valid_ids_listed() -> None:
    with pytest.raises(UnknownFlawError) as excinfo:
        parse_flaws("reminder_list_leak,reminder_list_leek")
    message = str(excinfo.value)
    assert "'reminder_list_leek'" in message
    assert all(flaw_id in message for flaw_id in FLAW_IDS)


def test_all_cannot_be_combined() -> None:
    with pytest.raises(UnknownFlawError, match="'all' stands alone"):
        parse_flaws("all,reminder_list_leak")


def test_ids_are_case_sensitive() -> None:
    with pytest.raises(UnknownFlawError, match="'Reminder_List_Leak'"):
        parse_flaws("Reminder_List_Leak")


def test_asking_for_a_nonexistent_flaw_is_a_programming_error() -> None:
    with pytest.raises(KeyError, match="no_such_flaw"):
        Flaws().enabled("no_such_flaw")
    with pytest.raises(UnknownFlawError):
        Flaws(frozenset({"no_such_flaw"}))


def test_ground_truth_lists_every_flaw_once_in_order() -> None:
    rows = yaml.safe_load(GROUND_TRUTH.read_text(encoding="utf-8"))
    assert [row["id"] for row in rows] == list(FLAW_IDS)
    for row in rows:
        assert set(row) - {"also_found_by"} == {"id", "check", "method", "path", "description"}, row["id"]
        assert row["check"] in CHECK_IDS, row["id"]
        for also in row.get("also_found_by", []):
            assert set(also) == {"check", "variant", "why"}, row["id"]
            assert also["check"] in CHECK_IDS, row["id"]
        assert row["method"] in {"GET", "POST", "PUT", "DELETE"}, row["id"]
        assert row["path"].startswith("/v1/"), row["id"]
        assert row["description"].strip(), row["id"]
