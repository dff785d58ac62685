"""The access matrix of the role checks (operation x role: allowed / refused / not tried), as the report shows it.

Built from the result records' `access` (suites/test_roles.py): each item says which role the operation needs,
where that came from, and what each role it tried got. Items of one operation are merged: a role counts as allowed
when any item saw it let in, as refused when items only saw it refused, else as not tried.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reports._records import ResultRecord

ALLOWED, REFUSED, NOT_TRIED = "allowed", "refused", "not tried"
ANONYMOUS = "anonymous"


def access_matrix(results: Iterable[ResultRecord]) -> dict[str, Any] | None:
    """{"roles": [...], "rows": [{"operation", "requires", "source", "detail", "cells": [...]}]}, or None when no
    record carries access information (a run with one role)."""
    roles: list[str] = []
    rows: dict[str, dict[str, Any]] = {}
    for result in results:
        access: Mapping[str, Any] | None = result.access
        if not access:
            continue
        for role in access.get("roles") or []:
            if role not in roles:
                roles.append(str(role))
        row = rows.setdefault(result.operation, {"operation": result.operation, "requires": None, "source": "none",
                                                 "detail": "", "seen": {}})
        if access.get("requires") and (row["requires"] is None or row["source"] == "none"):
            row.update(requires=access["requires"], source=access.get("source") or "none",
                       detail=access.get("detail") or "")
        for role, seen in (access.get("seen") or {}).items():
            row["seen"][role] = _merged(row["seen"].get(role), str(seen))
    if not rows:
        return None
    columns = [*roles, ANONYMOUS]
    return {
        "roles": columns,
        "rows": [{**row, "cells": [row["seen"].get(role, NOT_TRIED) for role in columns]}
                 for _label, row in sorted(rows.items(), key=lambda item: _path_then_method(item[0]))],
    }


def _merged(before: str | None, seen: str) -> str:
    if ALLOWED in (before, seen):
        return ALLOWED
    if REFUSED in (before, seen):
        return REFUSED
    return NOT_TRIED


def _path_then_method(label: str) -> tuple[str, str]:
    method, _, path = label.partition(" ")
    return path, method
