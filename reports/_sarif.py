"""SARIF 2.1.0 for code-scanning dashboards: one rule per check id, one result per failed item (accepted items
are results with an external suppression), and the run's verdict in `invocations[0]`: `executionSuccessful` is
false when the run was interrupted, aborted, not tested enough or had items that ended in error, and each of
those is a tool execution notification."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reports._findings import write_text
from reports._records import Outcome, Records, ResultRecord, RunRecord, Severity
from reports.verdict import Verdict, decide, fail_on_of

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


def write_sarif(out_dir: Path | str, run: RunRecord, results: Records, *, fail_on: Severity | None = None) -> Path:
    """Write `results.sarif`. Findings are located at the operation (an API has no source lines to point at)."""
    verdict = decide(run, results, fail_on=fail_on or fail_on_of(run))
    reported = [result for result in results if result.outcome in (Outcome.FAIL, Outcome.ACCEPTED)]
    rule_ids = sorted({result.check for result in reported})
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "digasec",
                        "version": str(run.get("harness_version", "")),
                        "rules": [_rule(rule_id, reported) for rule_id in rule_ids],
                    }
                },
                "automationDetails": {"id": f"digasec/{run.get('id', '')}"},
                "invocations": [_invocation(run, results, verdict)],
                "results": [_result(result, rule_ids) for result in reported],
                "properties": {"digasec/verdict": {"status": verdict.status, "exit_code": verdict.exit_code,
                                                   "reasons": list(verdict.reasons)}},
            }
        ],
    }
    return write_text(Path(out_dir) / SARIF_FILE, json.dumps(document, indent=2, ensure_ascii=False) + "\n")


# statuses the tool ran to the end for: a failed verdict with nothing but findings is a successful execution
_EXECUTION_ENDED = frozenset({"passed", "failed"})


def _invocation(run: RunRecord, results: Records, verdict: Verdict) -> dict[str, Any]:
    notifications = [
        _notification(f"digasec/{reason.code}", "error", reason.text)
        for reason in verdict.details
        if reason.status in ("interrupted", "aborted", "not_tested")
    ]
    for result in results:
        if result.outcome is Outcome.ERROR:
            text = f"{result.operation or result.check} [{result.check}]: {result.reason or 'ended in error'}"
            notification = _notification("digasec/item_error", "error", text)
            notification["locations"] = [_location(result)]
            notifications.append(notification)
    invocation: dict[str, Any] = {
        "executionSuccessful": verdict.status in _EXECUTION_ENDED and not verdict.errors,
        "exitCode": verdict.exit_code,
        "toolExecutionNotifications": notifications,
    }
    for key, sarif_key in (("started", "startTimeUtc"), ("finished", "endTimeUtc")):
        if run.get(key):
            invocation[sarif_key] = str(run[key])
    return invocation


def _notification(descriptor: str, level: str, text: str) -> dict[str, Any]:
    return {"descriptor": {"id": descriptor}, "level": level, "message": {"text": text}}


def _location(result: ResultRecord) -> dict[str, Any]:
    variant = f" [{result.variant}]" if result.variant else ""
    return {"logicalLocations": [{"name": f"{result.operation}{variant}", "kind": "function"}]}


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
    sarif: dict[str, Any] = {
        "ruleId": result.check,
        "ruleIndex": rule_ids.index(result.check),
        "level": _LEVELS[severity],
        "message": {"text": f"{result.title}: {result.message}"},
        "partialFingerprints": {"digasec/v1": result.fingerprint},
        "locations": [_location(result)],
        "properties": {
            "severity": result.severity.value if result.severity else None,
            "requirements": list(result.requirements),
            "outcome": result.outcome.value,
        },
    }
    if result.outcome is Outcome.ACCEPTED:
        acceptance = result.acceptance
        justification = acceptance.justification if acceptance else "accepted by the baseline"
        sarif["suppressions"] = [{"kind": "external", "status": "accepted", "justification": justification}]
    return sarif


def _severity(result: ResultRecord) -> Severity:
    """A failure without a severity counts as critical, as in the gate (fail closed)."""
    return result.severity or Severity.CRITICAL
