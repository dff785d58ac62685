"""The report's "Identity provider" table: the settings the idp checks judged (result records' `settings`), one row
each, with the value found, the limit, the requirement and how it was judged (configuration or behaviour). The
setting's name, value and limit read in the report's language (`text`: reports/messages.yaml for German; Keycloak's
own setting names and values, numbers and URIs stay as they are)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from reports._records import ResultRecord

_TRANSLATED = ("name", "value", "limit")


def identity_settings(results: Iterable[ResultRecord], text: Callable[[str], str] = str) -> list[dict[str, Any]]:
    """Every judged setting in check order, failing ones first within a check; empty when no idp check judged any."""
    rows = [{**setting, "outcome": result.outcome.value} for result in results for setting in result.settings]
    rows.sort(key=lambda row: (str(row.get("check", "")), bool(row.get("ok")), str(row.get("name", ""))))
    return [{**row, **{key: text(str(row[key])) for key in _TRANSLATED if key in row}} for row in rows]
