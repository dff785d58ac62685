"""The report's "Interoperable export" section: each validator's verdict on each export, with its first errors.

Built from the result records of `fhir_export_valid` (suites/test_fhir_export.py), whose `export` holds the
validator's name, verdict, error and warning counts, first errors (FHIRPath location, message) and the profiles the
payload claims; a skipped item (no JDK for the HAPI validator, no export found) shows its reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from reports._records import Outcome, ResultRecord, operation_sort_key

CHECK = "fhir_export_valid"


def export_rows(results: Iterable[ResultRecord], text: Callable[[str], str]) -> list[dict[str, Any]]:
    """One row per export operation and validator, in the order of the operations; empty when no record is
    `fhir_export_valid`'s."""
    rows = []
    for result in sorted((r for r in results if r.check == CHECK), key=operation_sort_key):
        export = dict(result.export or {})
        skipped = result.outcome is Outcome.SKIP or (result.outcome is Outcome.ERROR and not export.get("verdict"))
        rows.append({
            "operation": result.operation if result.path not in ("", "-") else "-",
            "validator": export.get("validator") or result.variant or "-",
            "verdict": "skipped" if skipped else str(export.get("verdict") or result.outcome.value),
            "outcome": result.outcome.value,
            "errors": export.get("errors", 0),
            "warnings": export.get("warnings", 0),
            "first": list(export.get("first") or []),
            "profiles": list(export.get("profiles") or []),
            "bundle_type": export.get("bundle_type") or "",
            "reason": text(result.reason) if skipped and result.reason else "",
        })
    return rows
