"""Items that wait for time to pass (a token to expire) run last, and the check's `prepare` starts their clock."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from fixtures.engine import plugin
from fixtures.engine.checks import REGISTRY, CheckSpec, Severity

CHECK = "late_items_probe"


def _item(check_id: str | None, variant: str | None, *, skipped: bool = False) -> Any:
    function = SimpleNamespace(digasec_check=check_id) if check_id else SimpleNamespace()
    return SimpleNamespace(function=function, callspec=SimpleNamespace(params={"variant": variant}),
                           name=f"{check_id}|{variant}",
                           get_closest_marker=lambda name: object() if skipped and name == "skip" else None)


@pytest.fixture
def registered() -> Any:
    prepared: list[object] = []
    REGISTRY[CHECK] = CheckSpec(CHECK, "probe", Severity.LOW, lambda op: True, lambda op: None, ("a", "late"),
                                "probe", None, ("late",), prepared.append)
    yield prepared
    del REGISTRY[CHECK]


def _config(harness: object) -> Any:
    return SimpleNamespace(stash={plugin.HARNESS_KEY: harness})


def test_late_variants_go_last_in_their_order_and_prepare_runs_once(registered: list[object]) -> None:
    items = [_item(CHECK, "late"), _item(CHECK, "a"), _item(None, None), _item(CHECK, "late"), _item(CHECK, "a")]
    harness = object()
    plugin.pytest_collection_modifyitems(_config(harness), items)  # type: ignore[arg-type]
    assert [item.callspec.params["variant"] for item in items] == ["a", None, "a", "late", "late"]
    assert registered == [harness]


def test_no_prepare_when_every_item_of_the_check_is_skipped(registered: list[object]) -> None:
    items = [_item(CHECK, "late", skipped=True), _item(CHECK, "a", skipped=True)]
    plugin.pytest_collection_modifyitems(_config(object()), items)  # type: ignore[arg-type]
    assert registered == []


def test_without_a_harness_nothing_moves(registered: list[object]) -> None:
    items = [_item(CHECK, "late"), _item(CHECK, "a")]
    plugin.pytest_collection_modifyitems(SimpleNamespace(stash={}), items)  # type: ignore[arg-type]
    assert [item.callspec.params["variant"] for item in items] == ["late", "a"]
    assert registered == []


@pytest.fixture
def registered_for_late_only() -> Any:
    prepared: list[object] = []
    REGISTRY[CHECK] = CheckSpec(CHECK, "probe", Severity.LOW, lambda op: True, lambda op: None, ("a", "late"),
                                "probe", None, ("late",), prepared.append, ("late",))
    yield prepared
    del REGISTRY[CHECK]


def test_prepare_waits_for_an_item_of_its_variants(registered_for_late_only: list[object]) -> None:
    plugin.pytest_collection_modifyitems(_config(object()), [_item(CHECK, "a")])
    assert registered_for_late_only == []  # `-k "not late"`: nothing to prepare for
    plugin.pytest_collection_modifyitems(_config(object()), [_item(CHECK, "a"), _item(CHECK, "late", skipped=True)])
    assert registered_for_late_only == []  # the one item that needs it is skipped
    harness = object()
    plugin.pytest_collection_modifyitems(_config(harness), [_item(CHECK, "a"), _item(CHECK, "late")])
    assert registered_for_late_only == [harness]


def test_the_checks_that_prepare_name_the_variants_that_need_it() -> None:
    from suites.test_authentication import test_invalid_token
    from suites.test_fhir_export import test_fhir_export_valid

    assert REGISTRY[test_invalid_token.digasec_check].prepare_variants == ("expired",)
    assert REGISTRY[test_fhir_export_valid.digasec_check].prepare_variants == ("hapi",)
