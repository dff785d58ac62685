"""Baseline: accepted risks, matched to failed results by fingerprint.

A baseline file (YAML)::

    schema: digasec/baseline/v1
    entries:
      - fingerprint: 3f0c...            # from findings.json
        justification: Admin-only endpoint behind the VPN, fixed with ticket SEC-12
        owner: jane.doe@example.org
        expires: 2025-06-30             # last day on which the acceptance holds
        check: cross_user_read          # optional context for the reader: check, method, path, variant,
        title: ...                      #   title, severity; only the fingerprint is matched

`apply_baseline` turns a matching failed result into `accepted` (severity kept, `acceptance` added) while
the entry has not expired; an expired entry leaves the result failed and says so in its message.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reports._findings import load_findings, write_text
from reports._records import Acceptance, Outcome, Records, ResultRecord

BASELINE_SCHEMA = "digasec/baseline/v1"
_REQUIRED = ("fingerprint", "justification", "owner", "expires")
_CONTEXT = ("check", "method", "path", "variant", "title", "severity")
_FINGERPRINT = re.compile(r"[0-9a-f]{64}")
_STILL_OPEN = frozenset({Outcome.FAIL, Outcome.ACCEPTED, Outcome.SKIP, Outcome.ERROR})
_TEMPLATE_HEADER = """\
# digasec baseline: accepted risks. Generated from {findings}.
# Fill in justification, owner and expires (YYYY-MM-DD, the last day the acceptance holds) for every
# entry you accept, and delete the entries you do not accept: an entry with an empty field is refused.
# Only the fingerprint is matched; check, method, path, variant, title and severity are for the reader.
"""


class BaselineError(ValueError):
    """A baseline file does not have the expected shape; the message names the entry and field."""


@dataclass(frozen=True)
class BaselineEntry:
    fingerprint: str
    justification: str
    owner: str
    expires: dt.date
    context: Mapping[str, str] = field(default_factory=dict)

    def expired(self, today: dt.date) -> bool:
        return today > self.expires

    def acceptance(self) -> Acceptance:
        return Acceptance(
            fingerprint=self.fingerprint,
            justification=self.justification,
            owner=self.owner,
            expires=self.expires.isoformat(),
        )


def load_baseline(path: Path | str) -> list[BaselineEntry]:
    """Read and validate a baseline file."""
    import yaml

    path = Path(path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or raw.get("schema") != BASELINE_SCHEMA:
        raise BaselineError(f"{path}: expected a mapping with 'schema: {BASELINE_SCHEMA}' and 'entries'")
    entries_raw = raw.get("entries") or []
    if not isinstance(entries_raw, list):
        raise BaselineError(f"{path}: 'entries' must be a list")
    entries = [_entry(item, f"{path}: entries[{index}]") for index, item in enumerate(entries_raw)]
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        if entry.fingerprint in seen:
            raise BaselineError(f"{path}: entries[{index}]: fingerprint {entry.fingerprint} is listed twice")
        seen.add(entry.fingerprint)
    return entries


def apply_baseline(
    results: Records, baseline: list[BaselineEntry], today: dt.date
) -> tuple[list[ResultRecord], list[BaselineEntry]]:
    """Accept the failed results the baseline names; return the new results and the stale entries.

    An entry is stale when no result has its fingerprint, or only passing ones (the finding is gone);
    a skipped or errored result keeps its entry, since the finding may still exist.
    """
    by_fingerprint = {entry.fingerprint: entry for entry in baseline}
    applied = [_apply(result, by_fingerprint.get(result.fingerprint), today) for result in results]
    open_fingerprints = {result.fingerprint for result in results if result.outcome in _STILL_OPEN}
    stale = [entry for entry in baseline if entry.fingerprint not in open_fingerprints]
    return applied, stale


def write_baseline(findings_path: Path | str, out_path: Path | str) -> Path:
    """Write a baseline template listing every failed result (and every accepted one, filled in)."""
    import yaml

    findings = load_findings(findings_path)
    entries = [
        _template_entry(result)
        for result in findings.results
        if result.outcome in (Outcome.FAIL, Outcome.ACCEPTED)
    ]
    body = yaml.safe_dump(
        {"schema": BASELINE_SCHEMA, "entries": entries}, sort_keys=False, allow_unicode=True, width=120
    )
    return write_text(Path(out_path), _TEMPLATE_HEADER.format(findings=Path(findings_path).name) + body)


def _apply(result: ResultRecord, entry: BaselineEntry | None, today: dt.date) -> ResultRecord:
    if entry is None or result.outcome is not Outcome.FAIL:
        return result
    if entry.expired(today):
        note = f"baseline acceptance by {entry.owner} expired on {entry.expires.isoformat()}"
        return dataclasses.replace(result, message=f"{result.message} ({note})".strip())
    return dataclasses.replace(result, outcome=Outcome.ACCEPTED, acceptance=entry.acceptance())


def _entry(raw: Any, where: str) -> BaselineEntry:
    if not isinstance(raw, dict):
        raise BaselineError(f"{where}: expected a mapping with {', '.join(_REQUIRED)}")
    for key in raw:
        if key not in _REQUIRED + _CONTEXT:
            close = difflib.get_close_matches(str(key), _REQUIRED + _CONTEXT, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise BaselineError(f"{where}: unknown key {key!r}.{hint}")
    for key in _REQUIRED:
        if raw.get(key) in (None, ""):
            raise BaselineError(f"{where}: {key} is empty: fill it in or delete the entry")
    fingerprint = str(raw["fingerprint"]).lower()
    if not _FINGERPRINT.fullmatch(fingerprint):
        raise BaselineError(f"{where}: fingerprint must be 64 hex digits (sha256), got {raw['fingerprint']!r}")
    return BaselineEntry(
        fingerprint=fingerprint,
        justification=str(raw["justification"]),
        owner=str(raw["owner"]),
        expires=_date(raw["expires"], f"{where}: expires"),
        context={key: str(raw[key]) for key in _CONTEXT if raw.get(key) is not None},
    )


def _date(raw: Any, where: str) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError as error:
        raise BaselineError(f"{where}: expected a date YYYY-MM-DD, got {raw!r}") from error


def _template_entry(result: ResultRecord) -> dict[str, Any]:
    record = result.to_dict()
    acceptance = record.get("acceptance") or {}
    entry: dict[str, Any] = {"fingerprint": result.fingerprint}
    entry.update({key: record[key] for key in _CONTEXT if record[key] not in (None, "")})
    entry.update({key: acceptance.get(key, "") for key in ("justification", "owner", "expires")})
    return entry
