"""SARIF 2.1.0 for code-scanning dashboards: one rule per check id, one result per failed item."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reports._findings import write_text
from reports._records import Outcome, Records, ResultRecord, RunRecord, Severity

SARIF_FILE = "results.sarif"
_LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
_SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}


def write_sarif(out_dir: Path | str, run: RunRecord, results: Records) -> Path:
    """Write `results.sarif`. Findings are located at the operation (an API has no source lines to point at)."""
    failed = [result for result in results if result.outcome is Outcome.FAIL]
    rule_ids = sorted({result.check for result in failed})
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
    first = next(result for result in failed if result.check == rule_id)
    worst = max(_severity(result) for result in failed if result.check == rule_id)
    return {
        "id": rule_id,
        "name": rule_id,
        "shortDescription": {"text": first.title or rule_id},
        "properties": {
            "tags": ["security", *first.requirements],
            "security-severity": _SECURITY_SEVERITY[worst],
        },
    }


def _result(result: ResultRecord, rule_ids: list[str]) -> dict[str, Any]:
    severity = _severity(result)
    variant = f" [{result.variant}]" if result.variant else ""
    return {
        "ruleId": result.check,
        "ruleIndex": rule_ids.index(result.check),
        "level": _LEVELS[severity],
        "message": {"text": f"{result.title}: {result.message}"},
        "partialFingerprints": {"digasec/v1": result.fingerprint},
        "locations": [{"logicalLocations": [{"name": f"{result.operation}{variant}", "kind": "function"}]}],
        "properties": {
            "severity": result.severity.value if result.severity else None,
            "requirements": list(result.requirements),
        },
    }


def _severity(result: ResultRecord) -> Severity:
    """A failure without a severity counts as critical, as in the gate (fail closed)."""
    return result.severity or Severity.CRITICAL
