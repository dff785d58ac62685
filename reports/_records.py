"""The result record and its vocabulary: `Severity`, `Outcome`, `ResultRecord`, and how to sort records.

One record per test item (ARCHITECTURE.md, "Records"). The pytest plugin builds them, the writers take them,
and findings.json holds them as `to_dict()` gives them; `from_dict()` reads them back (the CLI's gate, the
baseline template). This module imports nothing but the standard library: `fixtures.engine.checks` re-exports
`Severity` from here, so checks and writers share one type without `reports/` importing the harness.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias


class FindingsError(ValueError):
    """A findings document or a result record does not have the contract's shape."""


@functools.total_ordering
class Severity(enum.Enum):
    """Severity of a finding, ordered from `INFO` (lowest) to `CRITICAL`; the value is findings.json's string."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_ORDER.index(self)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    @classmethod
    def parse(cls, value: Severity | str, *, what: str = "severity") -> Severity:
        """`value` as a Severity; a string that names none is a ValueError listing the valid ones."""
        if isinstance(value, Severity):
            return value
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"{what} must be one of {', '.join(SEVERITIES)}, got {value!r}") from None


class Outcome(enum.Enum):
    """How a test item ended. `ERROR` extends design.md's set: no verdict (5xx, timeout, transport error)."""

    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"
    ACCEPTED = "accepted"
    ERROR = "error"


_SEVERITY_ORDER: tuple[Severity, ...] = tuple(Severity)
#: The string forms, lowest severity first (command-line choices, report columns).
SEVERITIES: tuple[str, ...] = tuple(severity.value for severity in Severity)
OUTCOMES: tuple[str, ...] = tuple(outcome.value for outcome in Outcome)


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """One redacted exchange: the request and the response as HTTP text; `role` says what the request is in the
    check's story (one of EVIDENCE_ROLES; empty in older findings), `actor` who sent it (`user1`, `anonymous`)."""

    request: str = ""
    response: str = ""
    role: str = ""
    actor: str = ""

    def to_dict(self) -> dict[str, str]:
        item = {"request": self.request, "response": self.response}
        item.update({name: value for name, value in (("role", self.role), ("actor", self.actor)) if value})
        return item


# Roles of evidence entries: `baseline` the owner's own valid request, `attack` the request that makes the finding
# (the forged token, the missing credential, user B's request on A's object), `proof` the owner reading the object
# to show its state before and after, `reference` any other request the check compared with.
EVIDENCE_ROLES = ("baseline", "attack", "proof", "reference")


@dataclass(frozen=True, kw_only=True)
class Acceptance:
    """The baseline entry that turned a failed result into `accepted` (`expires`: ISO date, last valid day)."""

    fingerprint: str
    justification: str
    owner: str
    expires: str

    def to_dict(self) -> dict[str, str]:
        return {
            "fingerprint": self.fingerprint,
            "justification": self.justification,
            "owner": self.owner,
            "expires": self.expires,
        }


@dataclass(frozen=True, kw_only=True)
class ResultRecord:
    """The result of one test item; `to_dict()` is its findings.json form (keys in this order).

    `note` and `acceptance` are left out of the dict when absent, as findings.json always had them; `applies` only
    appears (as false) on a skip that does not apply.
    """

    check: str
    method: str = ""
    path: str = ""
    variant: str | None = None
    outcome: Outcome
    severity: Severity | None = None
    title: str = ""
    message: str = ""
    fingerprint: str = ""
    requirements: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    reason: str = ""
    nodeid: str = ""
    duration_s: float = 0.0
    note: str | None = None
    acceptance: Acceptance | None = None
    # False for a skip whose question does not apply to the target (not counted against gate.min_coverage)
    applies: bool = True
    # role checks: the required role, where that came from, and what each role got (the report's access matrix)
    access: Mapping[str, Any] | None = field(default=None, hash=False)
    # the reads and logins a verdict rested on ("GET /notes/{note_id}", "login as user1"), for passes too
    proof: tuple[str, ...] = ()
    # export checks: each validator's verdict, error count and first errors (the report's interoperable export)
    export: Mapping[str, Any] | None = field(default=None, hash=False)
    # idp checks: the settings judged, each {check, name, value, limit, requirement, ok, mode} (the report's
    # "Identity provider" table)
    settings: tuple[Mapping[str, Any], ...] = field(default=(), hash=False)

    def __post_init__(self) -> None:
        # Guards against a caller that bypassed the types (a string where the enum belongs, a list for a tuple).
        if not isinstance(self.outcome, Outcome):
            raise TypeError(f"outcome must be an Outcome, got {self.outcome!r}")
        if self.severity is not None and not isinstance(self.severity, Severity):
            raise TypeError(f"severity must be a Severity or None, got {self.severity!r}")
        if not isinstance(self.requirements, tuple) or not isinstance(self.evidence, tuple):
            raise TypeError("requirements and evidence must be tuples (the record is immutable)")

    @property
    def operation(self) -> str:
        """`METHOD path`, or an empty string when the check has no HTTP operation."""
        return f"{self.method.upper()} {self.path}".strip()

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "check": self.check,
            "method": self.method,
            "path": self.path,
            "variant": self.variant,
            "outcome": self.outcome.value,
            "severity": self.severity.value if self.severity else None,
            "title": self.title,
            "message": self.message,
            "fingerprint": self.fingerprint,
            "requirements": list(self.requirements),
            "evidence": [item.to_dict() for item in self.evidence],
            "reason": self.reason,
            "nodeid": self.nodeid,
            "duration_s": self.duration_s,
        }
        if self.note is not None:
            record["note"] = self.note
        if self.acceptance is not None:
            record["acceptance"] = self.acceptance.to_dict()
        if not self.applies:
            record["applies"] = False
        if self.access is not None:
            record["access"] = dict(self.access)
        if self.proof:
            record["proof"] = list(self.proof)
        if self.export is not None:
            record["export"] = dict(self.export)
        if self.settings:
            record["settings"] = [dict(setting) for setting in self.settings]
        return record

    @classmethod
    def from_dict(cls, raw: object, *, where: str = "result") -> ResultRecord:
        """A record from its findings.json form. Required: `check` and a known `outcome`; a `severity`, when
        given, must be known. Missing optional fields take their defaults; unknown keys are ignored (a newer
        harness may add some). Anything else of the wrong shape is a FindingsError naming `where` and the key."""
        if not isinstance(raw, Mapping):
            raise FindingsError(f"{where}: expected an object, got {type(raw).__name__}")
        check = raw.get("check")
        if not isinstance(check, str) or not check:
            raise FindingsError(f"{where}: 'check' must be a non-empty string")
        if raw.get("outcome") not in OUTCOMES:
            raise FindingsError(f"{where}: outcome {raw.get('outcome')!r} is not one of {', '.join(OUTCOMES)}")
        severity = raw.get("severity")
        if severity is not None and severity not in SEVERITIES:
            raise FindingsError(f"{where}: severity {severity!r} is not one of {', '.join(SEVERITIES)}")
        duration = raw.get("duration_s") or 0.0
        if not isinstance(duration, int | float) or isinstance(duration, bool):
            raise FindingsError(f"{where}: 'duration_s' must be a number, got {duration!r}")
        variant, note, applies = raw.get("variant"), raw.get("note"), raw.get("applies", True)
        if not isinstance(applies, bool):
            raise FindingsError(f"{where}: 'applies' must be true or false, got {applies!r}")
        return cls(
            check=check,
            method=_text(raw, "method", where),
            path=_text(raw, "path", where),
            variant=None if variant is None else _text(raw, "variant", where),
            outcome=Outcome(raw["outcome"]),
            severity=None if severity is None else Severity(severity),
            title=_text(raw, "title", where),
            message=_text(raw, "message", where),
            fingerprint=_text(raw, "fingerprint", where),
            requirements=tuple(_text_list(raw, "requirements", where)),
            evidence=tuple(_evidence(raw.get("evidence"), where)),
            reason=_text(raw, "reason", where),
            nodeid=_text(raw, "nodeid", where),
            duration_s=float(duration),
            note=None if note is None else _text(raw, "note", where),
            access=dict(raw["access"]) if isinstance(raw.get("access"), Mapping) else None,
            proof=tuple(str(step) for step in raw.get("proof") or ()),
            export=dict(raw["export"]) if isinstance(raw.get("export"), Mapping) else None,
            settings=tuple(dict(setting) for setting in raw.get("settings") or () if isinstance(setting, Mapping)),
            acceptance=_acceptance(raw.get("acceptance"), where),
            applies=applies,
        )


RunRecord: TypeAlias = Mapping[str, Any]
Records: TypeAlias = Sequence[ResultRecord]


def _text(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FindingsError(f"{where}: {key!r} must be a string, got {value!r}")
    return value


def _text_list(raw: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = raw.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise FindingsError(f"{where}: {key!r} must be a list of strings")
    return value


def _evidence(raw: object, where: str) -> list[Evidence]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise FindingsError(f"{where}: 'evidence' must be a list of {{request, response}} objects")
    items = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise FindingsError(f"{where}: evidence[{index}] must be a {{request, response}} object")
        items.append(
            Evidence(
                request=_text(item, "request", f"{where}: evidence[{index}]"),
                response=_text(item, "response", f"{where}: evidence[{index}]"),
                role=_text(item, "role", f"{where}: evidence[{index}]"),
                actor=_text(item, "actor", f"{where}: evidence[{index}]"),
            )
        )
    return items


def _acceptance(raw: object, where: str) -> Acceptance | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise FindingsError(f"{where}: 'acceptance' must be an object")
    fields = {key: _text(raw, key, f"{where}: acceptance") for key in ("fingerprint", "justification", "owner")}
    expires = raw.get("expires")
    return Acceptance(**fields, expires="" if expires is None else str(expires))


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


def severity_rank(severity: Severity | None) -> int:
    """The severity's rank; a missing severity ranks above critical (the gate fails closed)."""
    return severity.rank if severity is not None else len(SEVERITIES)


def operation_sort_key(result: ResultRecord) -> tuple[bool, str, int, str]:
    """By path, then method in the usual order; results without an HTTP operation last."""
    method = result.method.upper()
    rank = _METHOD_ORDER.index(method) if method in _METHOD_ORDER else len(_METHOD_ORDER)
    return not result.path, result.path, rank, method


def result_sort_key(result: ResultRecord) -> tuple[str, str, str, str]:
    """The stable order of findings.json: check, path, method, variant."""
    return result.check, result.path, result.method.upper(), result.variant or ""
