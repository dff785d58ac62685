"""The report's "Identity provider" table: the settings the idp checks judged (result records' `settings`), one row
each, with the value found, the limit, the requirement and how it was judged (configuration or behaviour)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reports._records import ResultRecord


def identity_settings(results: Iterable[ResultRecord]) -> list[dict[str, Any]]:
    """Every judged setting in check order, failing ones first within a check; empty when no idp check judged any."""
    rows = [{**setting, "outcome": result.outcome.value} for result in results for setting in result.settings]
    return sorted(rows, key=lambda row: (str(row.get("check", "")), bool(row.get("ok")), str(row.get("name", ""))))
