"""report.html: a single self-contained, printable report in English or German.

The functions below turn the records into a plain view model; `templates/report.html.j2` (autoescaped)
only lays it out.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reports._evidence import clip, curl_command, evidence_items, xml_safe
from reports._findings import FINDINGS_FILE, file_sha256, write_text
from reports._records import (
    OUTCOMES,
    SEVERITIES,
    Record,
    Records,
    check_sort_key,
    operation_label,
    operation_sort_key,
    severity_rank,
)
from reports._requirements import (
    LANGUAGES,
    CheckRequirements,
    RequirementCatalogue,
    UnknownCheckError,
    load_requirement_catalogue,
)
from reports.gate import failing, summarise

if TYPE_CHECKING:
    import jinja2

HTML_FILE = "report.html"
I18N_PATH = Path(__file__).with_name("i18n.yaml")
TEMPLATES = Path(__file__).with_name("templates")
SYMBOLS: Mapping[str, str] = {"pass": "✓", "fail": "✗", "skip": "○", "accepted": "◆", "error": "!"}
_CELL_ORDER = ("fail", "error", "accepted", "skip", "pass")
_SCOPE_TARGET = ("base_url", "backend_version", "keycloak_url", "realm", "keycloak_version")
_SCOPE_RUN = ("profile", "profile_sha256", "openapi_sha256", "operations", "items", "id", "started", "finished")
_HASHES = frozenset({"profile_sha256", "openapi_sha256", "harness_commit", "id"})
_FIELDS = ("check", "variant", "severity", "title", "message", "reason", "fingerprint")


def write_html(out_dir: Path | str, run: Record, results: Records, *, lang: str = "en", fail_on: str = "low") -> Path:
    """Write `report.html` into `out_dir`. Call after write_findings: section 9 hashes that file."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    out = Path(out_dir)
    context = report_context(run, results, lang=lang, fail_on=fail_on, findings_path=out / FINDINGS_FILE)
    return write_text(out / HTML_FILE, _template().render(context))


def report_context(run: Record, results: Records, *, lang: str, fail_on: str, findings_path: Path) -> dict[str, Any]:
    """Everything the template shows, as plain values."""
    strings = load_strings()[lang]
    catalogue = load_requirement_catalogue()
    return {
        "lang": lang,
        "t": strings,
        "symbols": SYMBOLS,
        "outcomes": OUTCOMES,
        "cell_order": _CELL_ORDER,
        "severities": tuple(reversed(SEVERITIES)),
        "run_id": run.get("id") or "",
        "verdict": _verdict(results, fail_on),
        "summary": summarise(results),
        "check_table": _check_table(results),
        "scope": _scope(run, strings),
        "method": _method(results, catalogue),
        "catalogues": list(catalogue.catalogues.values()),
        "caveats": catalogue.caveats,
        "matrix": _matrix(results),
        "findings": _findings(results, run, catalogue),
        "accepted": _listing(results, "accepted"),
        "skipped": _skipped(results),
        "errors": _listing(results, "error"),
        "integrity": _integrity(findings_path),
    }


@functools.cache
def load_strings() -> dict[str, dict[str, Any]]:
    import yaml

    with I18N_PATH.open(encoding="utf-8") as stream:
        strings: dict[str, dict[str, Any]] = yaml.safe_load(stream)
    return strings


@functools.cache
def _template() -> jinja2.Template:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["plural"] = plural
    return environment.get_template("report.html.j2")


def plural(forms: Mapping[str, str], count: int, **values: Any) -> str:
    """Pick the `one` or `other` form of an i18n string and fill in `{count}` and the other placeholders."""
    return forms["one" if count == 1 else "other"].format(count=count, **values)


def _verdict(results: Records, fail_on: str) -> dict[str, Any]:
    count = len(failing(results, fail_on=fail_on))
    return {"passed": count == 0, "fail_on": fail_on, "failing": count}


def _check_table(results: Records) -> list[dict[str, Any]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for result in results:
        counts[str(result.get("check", ""))][str(result.get("outcome"))] += 1
    return [
        {"check": check, "counts": counts[check], "total": sum(counts[check].values())}
        for check in sorted(counts, key=check_sort_key)
    ]


def _scope(run: Record, strings: Mapping[str, Any]) -> list[dict[str, Any]]:
    target = run.get("target") or {}
    values: dict[str, Any] = {key: target.get(key) for key in _SCOPE_TARGET}
    values.update({key: run.get(key) for key in _SCOPE_RUN})
    values["duration"] = _duration(run.get("started"), run.get("finished"))
    values["harness"] = run.get("harness_version")
    values["harness_commit"] = run.get("harness_commit")
    labels = strings["scope_fields"]
    return [
        {"label": labels["run_id" if key == "id" else key], "value": value, "mono": key in _HASHES}
        for key, value in values.items()
    ]


def _duration(started: Any, finished: Any) -> str | None:
    try:
        seconds = int(
            (dt.datetime.fromisoformat(str(finished)) - dt.datetime.fromisoformat(str(started))).total_seconds()
        )
    except (TypeError, ValueError):
        return None
    hours, rest = divmod(max(seconds, 0), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def _method(results: Records, catalogue: RequirementCatalogue) -> list[dict[str, Any]]:
    """One entry per catalogue row present in the run (a prefix row lists every check id it covers)."""
    entries: dict[str, dict[str, Any]] = {}
    for check in sorted({str(result.get("check", "")) for result in results}, key=check_sort_key):
        row = _row(catalogue, check)
        key = row.check if row else check
        entry = entries.setdefault(key, {"key": key, "row": row, "checks": []})
        entry["checks"].append(check)
    return list(entries.values())


def _row(catalogue: RequirementCatalogue, check: str) -> CheckRequirements | None:
    try:
        return catalogue.row(check)
    except UnknownCheckError:
        return None


def _matrix(results: Records) -> dict[str, Any]:
    checks = sorted({str(result.get("check", "")) for result in results}, key=check_sort_key)
    cells: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    keys: dict[str, tuple[bool, str, int, str]] = {}
    for result in results:
        label = operation_label(result)
        keys[label] = operation_sort_key(result)
        cells[label][str(result.get("check", ""))][str(result.get("outcome"))] += 1
    rows = [
        {"operation": label, "cells": [_cell(cells[label].get(check)) for check in checks]}
        for label in sorted(keys, key=keys.__getitem__)
    ]
    return {"checks": checks, "rows": rows}


def _cell(counts: Counter[str] | None) -> dict[str, Any] | None:
    if not counts:
        return None
    parts = [(outcome, counts[outcome]) for outcome in _CELL_ORDER if counts[outcome]]
    return {"worst": parts[0][0], "parts": parts}


def _findings(results: Records, run: Record, catalogue: RequirementCatalogue) -> list[dict[str, Any]]:
    groups: dict[str, list[Record]] = defaultdict(list)
    for result in results:
        if result.get("outcome") == "fail":
            groups[str(result.get("title") or result.get("check", ""))].append(result)
    base_url = (run.get("target") or {}).get("base_url")
    rendered = [_finding_group(title, members, base_url, catalogue) for title, members in groups.items()]
    return sorted(rendered, key=lambda group: (-group["rank"], check_sort_key(group["check"]), group["title"]))


def _finding_group(
    title: str, members: list[Record], base_url: str | None, catalogue: RequirementCatalogue
) -> dict[str, Any]:
    members = sorted(members, key=lambda result: (operation_sort_key(result), str(result.get("variant") or "")))
    worst = max(members, key=lambda result: severity_rank(result.get("severity")))
    return {
        "title": title,
        "check": str(worst.get("check", "")),
        "severity": worst.get("severity"),
        "rank": severity_rank(worst.get("severity")),
        "items": [_finding_item(result, base_url, catalogue) for result in members],
    }


def _finding_item(result: Record, base_url: str | None, catalogue: RequirementCatalogue) -> dict[str, Any]:
    row = _row(catalogue, str(result.get("check", "")))
    requirements = result.get("requirements") or (row.labels() if row else [])
    evidence = evidence_items(result)
    return {
        "result": _fields(result),
        "operation": operation_label(result),
        "requirements": [str(label) for label in requirements],
        "verified": row.verified if row else True,
        "evidence": [_clipped(item) for item in evidence],
        "curl": curl_command(evidence[0]["request"], base_url) if evidence and evidence[0]["request"] else None,
    }


def _clipped(item: Mapping[str, str]) -> dict[str, Any]:
    clipped: dict[str, Any] = {}
    for part in ("request", "response"):
        text, clipped[f"{part}_omitted"] = clip(item[part])
        clipped[part] = xml_safe(text)
    return clipped


def _listing(results: Records, outcome: str) -> list[dict[str, Any]]:
    chosen = [result for result in results if result.get("outcome") == outcome]
    chosen.sort(key=lambda result: (check_sort_key(str(result.get("check", ""))), operation_sort_key(result)))
    return [
        {"result": _fields(result), "operation": operation_label(result), "acceptance": _acceptance(result)}
        for result in chosen
    ]


def _fields(result: Record) -> dict[str, Any]:
    """The record fields the template shows; absent optional fields become None (the template is strict)."""
    return {key: result.get(key) for key in _FIELDS}


def _acceptance(result: Record) -> dict[str, Any]:
    acceptance = result.get("acceptance") or {}
    return {key: acceptance.get(key) for key in ("justification", "owner", "expires")}


def _skipped(results: Records) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in _listing(results, "skip"):
        groups[str(item["result"].get("reason") or "")].append(item)
    return [
        {"reason": reason, "items": items}
        for reason, items in sorted(groups.items(), key=lambda group: (-len(group[1]), group[0]))
    ]


def _integrity(findings_path: Path) -> dict[str, Any]:
    digest = file_sha256(findings_path) if findings_path.is_file() else None
    return {"file": findings_path.name, "sha256": digest}
