"""The demo's flaw switches (DEMO_FLAWS) and their ground truth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def ground_truth_rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The backend's flaws (rows without a kind) and the realm's weaknesses (`kind: realm`)."""
    rows = yaml.safe_load(GROUND_TRUTH.read_text(encoding="utf-8"))
    return [row for row in rows if "kind" not in row], [row for row in rows if row.get("kind") == "realm"]


def test_ground_truth_lists_every_flaw_once_in_order() -> None:
    rows, realm = ground_truth_rows()
    assert len(rows) + len(realm) == len(yaml.safe_load(GROUND_TRUTH.read_text(encoding="utf-8")))
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


def test_realm_weaknesses_name_settings_the_flawed_realm_has_and_the_secure_one_changes() -> None:
    """Each realm row's settings are laid over the realm by the flawed profile or come from the realm file; the
    secure profile overrides every one the flawed profile plants, or hardens it in its own overlay."""
    _rows, realm = ground_truth_rows()
    assert len({row["id"] for row in realm}) == len(realm)
    demo = GROUND_TRUTH.parent
    planted = yaml.safe_load((demo.parent / "profiles" / "demo.yaml").read_text())["keycloak"]["realm_settings"]
    hardened = yaml.safe_load((demo.parent / "profiles" / "demo-secure.yaml").read_text())["keycloak"]
    base = json.loads((demo / "realm.json").read_text(encoding="utf-8"))
    for row in realm:
        assert set(row) == {"id", "kind", "check", "method", "path", "variant", "settings", "description"}, row["id"]
        assert row["check"].startswith("idp_"), row["id"]
        assert row["variant"] in {"configuration", "behaviour"}, row["id"]
        for setting in row["settings"]:
            assert setting in planted or setting in base, (row["id"], setting)
            if setting in planted and setting != "clients":  # the secure realm's value: its overlay's or the file's
                secure = hardened["realm_settings"].get(setting, base.get(setting))
                assert secure != planted[setting], (row["id"], setting)
