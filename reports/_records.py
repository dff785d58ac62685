"""Shared vocabulary of the result records: outcomes, severities, check order.

The records themselves are plain dicts in the findings.json shape (see ARCHITECTURE.md);
this module only names the values they may hold and how to sort them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

Record: TypeAlias = Mapping[str, Any]
Records: TypeAlias = Sequence[Record]

OUTCOMES: tuple[str, ...] = ("pass", "fail", "skip", "accepted", "error")
SEVERITIES: tuple[str, ...] = ("info", "low", "medium", "high", "critical")

#: Check ids in the order of design.md; prefixed families sort where their prefix stands.
CHECK_ORDER: tuple[str, ...] = (
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
    "idp_",
    "fhir_export_",
)

_METHOD_ORDER = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")


def check_sort_key(check: str) -> tuple[int, str]:
    """Sort key: design order first, unknown checks after, alphabetically within a family."""
    for index, known in enumerate(CHECK_ORDER):
        if check == known or (known.endswith("_") and check.startswith(known)):
            return index, check
    return len(CHECK_ORDER), check


def severity_rank(severity: object) -> int:
    """Index in SEVERITIES; an unknown or missing severity ranks above critical (fail closed)."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def operation_label(result: Record) -> str:
    """`METHOD path` of a result, or an empty string when the check has no HTTP operation."""
    method = str(result.get("method") or "").upper()
    path = str(result.get("path") or "")
    return f"{method} {path}".strip()


def operation_sort_key(result: Record) -> tuple[bool, str, int, str]:
    """By path, then method in the usual order; results without an HTTP operation last."""
    method = str(result.get("method") or "").upper()
    path = str(result.get("path") or "")
    rank = _METHOD_ORDER.index(method) if method in _METHOD_ORDER else len(_METHOD_ORDER)
    return not path, path, rank, method


def result_sort_key(result: Record) -> tuple[str, str, str, str]:
    """The stable order of findings.json: check, path, method, variant."""
    return (
        str(result.get("check", "")),
        str(result.get("path") or ""),
        str(result.get("method") or "").upper(),
        str(result.get("variant") or ""),
    )
