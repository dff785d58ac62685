"""SARIF 2.1.0 for code-scanning dashboards: one rule per check id, one result per failed item."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reports._findings import write_text
from reports._records import Record, Records

SARIF_FILE = "results.sarif"
_LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}


def write_sarif(out_dir: Path | str, run: Record, results: Records) -> Path:
    """Write `results.sarif`. Findings are located at the operation (an API has no source lines to point at)."""
    failed = [result for result in results if result.get("outcome") == "fail"]
    rule_ids = sorted({str(result["check"]) for result in failed})
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "digasec",
                        "version": str(run.get("harness_version", "")),
                        "rules": [_rule(rule_id, failed) for rule_id in rule_ids],
                    }
                },
                "automationDetails": {"id": f"digasec/{run.get('id', '')}"},
                "results": [_result(result, rule_ids) for result in failed],
            }
        ],
    }
    return write_text(Path(out_dir) / SARIF_FILE, json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _rule(rule_id: str, failed: Records) -> dict[str, Any]:
    first = next(result for result in failed if result["check"] == rule_id)
    worst = max((str(r.get("severity", "info")) for r in failed if r["check"] == rule_id), key=_rank)
    return {
        "id": rule_id,
        "name": rule_id,
        "shortDescription": {"text": str(first.get("title", rule_id))},
        "properties": {
            "tags": ["security", *first.get("requirements", [])],
            "security-severity": _SECURITY_SEVERITY[worst],
        },
    }


def _result(result: Record, rule_ids: list[str]) -> dict[str, Any]:
    severity = str(result.get("severity", "info"))
    operation = f"{result.get('method', '')} {result.get('path', '')}".strip()
    variant = f" [{result['variant']}]" if result.get("variant") else ""
    return {
        "ruleId": result["check"],
        "ruleIndex": rule_ids.index(str(result["check"])),
        "level": _LEVELS.get(severity, "warning"),
        "message": {"text": f"{result.get('title', '')}: {result.get('message', '')}"},
        "partialFingerprints": {"digasec/v1": str(result.get("fingerprint", ""))},
        "locations": [{"logicalLocations": [{"name": f"{operation}{variant}", "kind": "function"}]}],
        "properties": {"severity": severity, "requirements": result.get("requirements", [])},
    }


def _rank(severity: str) -> int:
    order = ("info", "low", "medium", "high", "critical")
    return order.index(severity) if severity in order else 0
