"""The verdict of a run: one function decides it, and every output (exit code, findings.json, junit.xml,
results.sarif, report.html and .pdf) shows what it decided.

Precedence, highest first: interrupted (130) > aborted (3) > failed (1: a fail at or above `fail_on`, or any item
that ended in error) > not tested (4: too few items got a verdict, the run said so, or there was nothing to test)
> passed (0). Every reason that applies is listed, whichever status wins, so a reader sees all of them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from reports._records import Outcome, Records, Severity
from reports.gate import failing

__all__ = [
    "DEFAULT_MIN_COVERAGE",
    "EXIT_CODES",
    "STATUSES",
    "Reason",
    "Verdict",
    "decide",
    "fail_on_of",
]

DEFAULT_MIN_COVERAGE = 0.5
#: Status -> exit code of `digasec run` (design.md, "Command line"), in order of precedence.
EXIT_CODES: Mapping[str, int] = {
    "interrupted": 130,
    "aborted": 3,
    "failed": 1,
    "not_tested": 4,
    "passed": 0,
}
STATUSES: tuple[str, ...] = tuple(EXIT_CODES)
_TESTED = frozenset({Outcome.PASS, Outcome.FAIL, Outcome.ACCEPTED})


@dataclass(frozen=True)
class Reason:
    """One reason of a verdict: `code` says which kind (writers translate by it, filling in `values`), `text` is
    the English sentence findings.json and the console show, `status` the status this reason calls for."""

    code: str
    status: str
    text: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "status": self.status, "text": self.text, **dict(self.values)}


@dataclass(frozen=True)
class Verdict:
    """The decided verdict. `reasons` are the English sentences of `details`, in order of precedence."""

    status: str
    exit_code: int
    reasons: tuple[str, ...]
    details: tuple[Reason, ...] = ()
    tested: int = 0
    items: int = 0
    not_applicable: int = 0
    errors: int = 0
    failing: int = 0
    min_coverage: float = DEFAULT_MIN_COVERAGE
    fail_on: Severity = Severity.LOW

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def applicable(self) -> int:
        """Items whose question applies to the target: all but the skips that say they do not apply."""
        return self.items - self.not_applicable

    @property
    def coverage(self) -> float:
        """Share of the applicable items that got a verdict (0 when there were none)."""
        return self.tested / self.applicable if self.applicable else 0.0

    def to_dict(self) -> dict[str, Any]:
        """findings.json's `run.verdict`."""
        return {
            "status": self.status,
            "exit_code": self.exit_code,
            "reasons": list(self.reasons),
            "details": [reason.to_dict() for reason in self.details],
            "coverage": {"tested": self.tested, "items": self.items, "not_applicable": self.not_applicable,
                         "min_coverage": self.min_coverage},
            "errors": self.errors,
            "fail_on": self.fail_on.value,
        }


def fail_on_of(run: Mapping[str, Any]) -> Severity:
    """The run record's `fail_on` (the threshold the run was made with), else `low`."""
    value = run.get("fail_on")
    return Severity.parse(value, what="run.fail_on") if value else Severity.LOW


def min_coverage_of(run: Mapping[str, Any]) -> float:
    gate = run.get("gate")
    value = gate.get("min_coverage") if isinstance(gate, Mapping) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else DEFAULT_MIN_COVERAGE


def decide(run: Mapping[str, Any], results: Records, *, fail_on: Severity) -> Verdict:
    """The verdict of a run from its run record (findings.json `run`) and its result records."""
    min_coverage = min_coverage_of(run)
    tested = sum(1 for result in results if result.outcome in _TESTED)
    errors = sum(1 for result in results if result.outcome is Outcome.ERROR)
    not_applicable = sum(1 for result in results if result.outcome is Outcome.SKIP and not result.applies)
    failed = len(failing(results, fail_on=fail_on))
    reasons = [
        *_stopped(run),
        *_failures(failed, errors, fail_on),
        *_not_tested(run, tested, len(results), not_applicable, min_coverage),
    ]
    status = min((reason.status for reason in reasons), key=STATUSES.index, default="passed")
    return Verdict(
        status=status,
        exit_code=EXIT_CODES[status],
        reasons=tuple(reason.text for reason in reasons),
        details=tuple(reasons),
        tested=tested,
        items=len(results),
        not_applicable=not_applicable,
        errors=errors,
        failing=failed,
        min_coverage=min_coverage,
        fail_on=fail_on,
    )


def _stopped(run: Mapping[str, Any]) -> list[Reason]:
    reasons = []
    if run.get("interrupted"):
        text = "the run was interrupted (Ctrl-C or SIGTERM) before every item had run"
        reasons.append(Reason("interrupted", "interrupted", text))
    aborted = run.get("aborted")
    if aborted:
        text = f"the run was stopped early: {aborted}"
        reasons.append(Reason("aborted", "aborted", text, {"problem": str(aborted)}))
    return reasons


def _failures(failed: int, errors: int, fail_on: Severity) -> list[Reason]:
    reasons = []
    if failed:
        items = "1 failed item" if failed == 1 else f"{failed} failed items"
        text = f"{items} at or above severity {fail_on.value}"
        reasons.append(Reason("failed", "failed", text, {"count": failed, "threshold": fail_on.value}))
    if errors:
        items = "1 item" if errors == 1 else f"{errors} items"
        text = f"{items} ended in error (no verdict: server error, timeout or transport error)"
        reasons.append(Reason("errors", "failed", text, {"count": errors}))
    return reasons


def _not_tested(
    run: Mapping[str, Any], tested: int, items: int, not_applicable: int, min_coverage: float
) -> list[Reason]:
    reasons = []
    declared = [entry for entry in run.get("not_tested") or () if isinstance(entry, Mapping)]
    codes = {str(entry.get("code", "")) for entry in declared}
    if run.get("operations") == 0 and "empty_spec" not in codes:
        text = "the OpenAPI document has no operations: nothing was tested"
        reasons.append(Reason("empty_spec", "not_tested", text))
    for entry in declared:
        code, detail = str(entry.get("code") or "not_tested"), str(entry.get("detail") or "")
        reasons.append(Reason(code, "not_tested", detail or code.replace("_", " "), {"detail": detail}))
    applicable = items - not_applicable
    if items == 0:
        reasons.append(Reason("no_items", "not_tested", "no test item was run"))
    elif applicable == 0:
        text = f"none of the {items} test items applies to this target: nothing was tested"
        reasons.append(Reason("none_applies", "not_tested", text, {"items": items}))
    elif Fraction(tested, applicable) < Fraction(str(min_coverage)):
        percent = math.floor(Fraction(100 * tested, applicable))
        minimum = f"{min_coverage * 100:g}"
        text = (
            f"{tested} of {applicable} applicable items got a verdict ({percent} %), below gate.min_coverage "
            f"{minimum} % ({not_applicable} further items do not apply to this target)"
        )
        values = {"tested": tested, "items": applicable, "percent": percent, "minimum": minimum,
                  "not_applicable": not_applicable}
        reasons.append(Reason("coverage", "not_tested", text, values))
    return reasons
