"""report.html: a single self-contained, printable report in English or German.

The functions below turn the records into a plain view model; `templates/report.html.j2` (autoescaped)
only lays it out.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reports._access import access_matrix
from reports._data import read_yaml
from reports._evidence import clip, reproduction, xml_safe
from reports._export import export_rows
from reports._findings import FINDINGS_FILE, file_sha256, write_text
from reports._identity import identity_settings
from reports._messages import to_german
from reports._records import (
    OUTCOMES,
    SEVERITIES,
    Evidence,
    Outcome,
    Records,
    ResultRecord,
    RunRecord,
    Severity,
    check_sort_key,
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
from reports.gate import summarise
from reports.verdict import Verdict, decide, fail_on_of

if TYPE_CHECKING:
    import jinja2

HTML_FILE = "report.html"
I18N_PATH = Path(__file__).with_name("i18n.yaml")
TEMPLATES = Path(__file__).with_name("templates")
SYMBOLS: Mapping[str, str] = {"pass": "✓", "fail": "✗", "skip": "○", "accepted": "◆", "error": "!"}
_CELL_ORDER = ("fail", "error", "accepted", "skip", "pass")
_SCOPE_KEYCLOAK = ("keycloak_url", "realm", "keycloak_version")
_SCOPE_RUN = (
    "profile", "profile_sha256", "openapi_sha256", "operations", "items", "id", "run_tag", "started", "finished"
)
_HASHES = frozenset({"profile_sha256", "openapi_sha256", "harness_commit", "id", "run_tag"})


def write_html(
    out_dir: Path | str, run: RunRecord, results: Records, *, lang: str = "en", fail_on: Severity | None = None
) -> Path:
    """Write `report.html` into `out_dir`. Call after write_findings: section 9 hashes that file. `fail_on`
    defaults to the run record's own threshold (`run.fail_on`, else low)."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    out = Path(out_dir)
    threshold = fail_on or fail_on_of(run)
    context = report_context(run, results, lang=lang, fail_on=threshold, findings_path=out / FINDINGS_FILE)
    return write_text(out / HTML_FILE, _template().render(context))


# How a result's note is labelled (what a check looked for, how it decided, what it left out), per language.
NOTE_LABELS = {
    "en": {"note": "Note", "passed": "Notes on passed items"},
    "de": {"note": "Hinweis", "passed": "Hinweise zu bestandenen Prüfpunkten"},
}


def report_context(
    run: RunRecord, results: Records, *, lang: str, fail_on: Severity, findings_path: Path
) -> dict[str, Any]:
    """Everything the template shows, as plain values."""
    strings = load_strings()[lang]
    titles: Mapping[str, str] = strings.get("finding_titles") or {}  # the checks' English titles, translated
    text = texts_in(lang)
    catalogue = load_requirement_catalogue()
    return {
        "lang": lang,
        "t": strings,
        "symbols": SYMBOLS,
        "outcomes": OUTCOMES,
        "cell_order": _CELL_ORDER,
        "severities": tuple(reversed(SEVERITIES)),
        "run_id": run.get("id") or "",
        "verdict": verdict_view(decide(run, results, fail_on=fail_on), strings, text),
        "summary": summarise(results),
        "untested_skips": sum(1 for r in results if r.outcome is Outcome.SKIP and r.applies),
        "check_table": _check_table(results),
        "scope": _scope(run, strings),
        "method": _method(results, catalogue),
        "catalogues": list(catalogue.catalogues.values()),
        "caveats": catalogue.caveats,
        "matrix": _matrix(results),
        "access": access_matrix(results),
        "export": export_rows(results, text),
        "identity": identity_settings(results, text),
        "findings": _findings(results, run, catalogue, titles, text, lang),
        "accepted": _listing(results, Outcome.ACCEPTED, titles, text),
        "skipped": _skipped(results, text),
        "errors": _listing(results, Outcome.ERROR, titles, text),
        "passed_notes": [item for item in _listing(results, Outcome.PASS, titles, text) if item["result"]["note"]],
        "note_labels": NOTE_LABELS[lang],
        "integrity": _integrity(findings_path),
    }


def _as_written(text: str) -> str:
    return text


def texts_in(lang: str) -> Callable[[str], str]:
    """How the harness's English messages, reasons and notes (findings.json) read in the report's language: German
    by reports/messages.yaml (what it does not know stays English), English as written."""
    return to_german if lang == "de" else _as_written


@functools.cache
def load_strings() -> dict[str, dict[str, Any]]:
    strings: dict[str, dict[str, Any]] = read_yaml(I18N_PATH)
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


_VERDICT_LOOK: Mapping[str, tuple[str, str]] = {
    "passed": ("pass", "✓"),
    "failed": ("fail", "✗"),
    "not_tested": ("not-tested", "○"),
    "aborted": ("aborted", "!"),
    "interrupted": ("interrupted", "!"),
}


def verdict_view(
    verdict: Verdict, strings: Mapping[str, Any], text: Callable[[str], str] = _as_written
) -> dict[str, Any]:
    """The verdict box: status word, css class, symbol, reasons in the report's language, coverage, errors."""
    css, symbol = _VERDICT_LOOK[verdict.status]
    percent = int(verdict.coverage * 100)
    return {
        "status": verdict.status,
        "passed": verdict.passed,
        "css": css,
        "symbol": symbol,
        "label": strings["verdict_status"][verdict.status],
        "exit_code": verdict.exit_code,
        "reasons": [reason_text(reason, strings, text) for reason in verdict.details],
        "fail_on": verdict.fail_on.value,
        "failing": verdict.failing,
        "errors": verdict.errors,
        "coverage": str(strings["verdict_coverage"]).format(
            tested=verdict.tested, items=verdict.applicable, percent=percent,
            minimum=f"{verdict.min_coverage * 100:g}", not_applicable=verdict.not_applicable,
        ),
    }


def reason_text(reason: Any, strings: Mapping[str, Any], text: Callable[[str], str] = _as_written) -> str:
    """A verdict reason in the report's language (a reason code the strings do not know: the `other` form; the
    harness's English `detail` and `problem` through `text`)."""
    forms = strings["verdict_reasons"]
    values = {key: text(value) if key in ("detail", "problem") and isinstance(value, str) else value
              for key, value in reason.values.items()}
    if "threshold" in values:
        values["threshold"] = strings["severities"].get(values["threshold"], values["threshold"])
    template = forms.get(reason.code)
    if template is None:
        return str(forms["other"]).format(detail=values.get("detail") or text(reason.text))
    if isinstance(template, Mapping):
        return plural(template, int(values.pop("count")), **values)
    return str(template).format(**values)


def _check_table(results: Records) -> list[dict[str, Any]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for result in results:
        counts[result.check][result.outcome.value] += 1
    return [
        {"check": check, "counts": counts[check], "total": sum(counts[check].values())}
        for check in sorted(counts, key=check_sort_key)
    ]


def _scope(run: RunRecord, strings: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The scope table. The Keycloak rows appear only when the run had a Keycloak."""
    target = run.get("target") or {}
    values: dict[str, Any] = {
        "base_url": target.get("base_url"),
        "backend_version": target.get("backend_version"),
        "token_issuer": token_issuer(target, strings),
    }
    if target.get("keycloak_url"):
        values.update({key: target.get(key) for key in _SCOPE_KEYCLOAK})
    values.update({key: run.get(key) for key in _SCOPE_RUN})
    if run.get("shared"):  # objects the profile declares shared by design beyond their owner (shared:)
        values["shared"] = "; ".join(f"{', '.join(rule.get('paths', []))} ({', '.join(rule.get('share', []))}): "
                                     f"{rule.get('reason', '')}" for rule in run["shared"])
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


def token_issuer(target: Mapping[str, Any], strings: Mapping[str, Any]) -> str | None:
    """Who issued the test users' tokens: the run record's `token_issuer`, else derived from the Keycloak fields
    (a run record written before `token_issuer` existed): an empty `keycloak_url` means the backend's own login.
    None when the record says nothing about either."""
    issuer = target.get("token_issuer")
    if issuer:
        return _translated_issuer(str(issuer), strings)
    if "keycloak_url" not in target:
        return None
    if target["keycloak_url"]:
        return str(strings["token_issuer_keycloak"]).format(
            realm=target.get("realm") or "?", url=target["keycloak_url"]
        )
    return str(strings["token_issuer_backend"])


_ISSUER_KEYCLOAK = re.compile(r"Keycloak realm (?P<realm>\S+) at (?P<url>\S+)")
_ISSUER_BACKEND = re.compile(r"the backend itself \((?P<operation>.+)\)")


def _translated_issuer(issuer: str, strings: Mapping[str, Any]) -> str:
    """The identity source's English description of the issuer in the report's language (the forms the
    sources write; anything else is shown as written)."""
    if issuer == "pre-issued tokens":
        return str(strings["token_issuer_preissued"])
    if match := _ISSUER_KEYCLOAK.fullmatch(issuer):
        return str(strings["token_issuer_keycloak"]).format(**match.groupdict())
    if match := _ISSUER_BACKEND.fullmatch(issuer):
        return str(strings["token_issuer_backend_operation"]).format(**match.groupdict())
    return issuer


def _method(results: Records, catalogue: RequirementCatalogue) -> list[dict[str, Any]]:
    """One entry per catalogue row present in the run (a prefix row lists every check id it covers)."""
    entries: dict[str, dict[str, Any]] = {}
    for check in sorted({result.check for result in results}, key=check_sort_key):
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
    checks = sorted({result.check for result in results}, key=check_sort_key)
    cells: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    keys: dict[str, tuple[bool, str, int, str]] = {}
    for result in results:
        label = result.operation
        keys[label] = operation_sort_key(result)
        cells[label][result.check][result.outcome.value] += 1
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


def _findings(
    results: Records,
    run: RunRecord,
    catalogue: RequirementCatalogue,
    titles: Mapping[str, str],
    text: Callable[[str], str] = _as_written,
    lang: str = "en",
) -> list[dict[str, Any]]:
    groups: dict[str, list[ResultRecord]] = defaultdict(list)
    for result in results:
        if result.outcome is Outcome.FAIL:
            groups[result.title or result.check].append(result)
    base_url = (run.get("target") or {}).get("base_url")
    rendered = [
        _finding_group(titles.get(title, title), members, base_url, catalogue, titles, text, lang)
        for title, members in groups.items()
    ]
    return sorted(rendered, key=lambda group: (-group["rank"], check_sort_key(group["check"]), group["title"]))


def _finding_group(
    title: str,
    members: list[ResultRecord],
    base_url: str | None,
    catalogue: RequirementCatalogue,
    titles: Mapping[str, str],
    text: Callable[[str], str] = _as_written,
    lang: str = "en",
) -> dict[str, Any]:
    members = sorted(members, key=lambda result: (operation_sort_key(result), result.variant or ""))
    worst = max(members, key=lambda result: severity_rank(result.severity))
    return {
        "title": title,
        "check": worst.check,
        "severity": _severity(worst),
        "rank": severity_rank(worst.severity),
        "items": [_finding_item(result, base_url, catalogue, titles, text, lang) for result in members],
    }


def _finding_item(
    result: ResultRecord,
    base_url: str | None,
    catalogue: RequirementCatalogue,
    titles: Mapping[str, str],
    text: Callable[[str], str] = _as_written,
    lang: str = "en",
) -> dict[str, Any]:
    row = _row(catalogue, result.check)
    requirements = result.requirements or (row.labels() if row else [])
    evidence = result.evidence
    return {
        "result": _fields(result, titles, text),
        "operation": result.operation,
        "requirements": list(requirements),
        "verified": row.verified if row else True,
        "evidence": [_clipped(item) for item in evidence],
        # the attack (with its story), never the owner's request alone; comments in the report's language
        "curl": reproduction(evidence, base_url, lang=lang),
    }


def _clipped(item: Evidence) -> dict[str, Any]:
    clipped: dict[str, Any] = {}
    for part, whole in (("request", item.request), ("response", item.response)):
        text, clipped[f"{part}_omitted"] = clip(whole)
        clipped[part] = xml_safe(text)
    return clipped


def _listing(
    results: Records,
    outcome: Outcome,
    titles: Mapping[str, str] | None = None,
    text: Callable[[str], str] = _as_written,
) -> list[dict[str, Any]]:
    chosen = [result for result in results if result.outcome is outcome]
    chosen.sort(key=lambda result: (check_sort_key(result.check), operation_sort_key(result)))
    return [
        {"result": _fields(result, titles or {}, text), "operation": result.operation,
         "acceptance": _acceptance(result)}
        for result in chosen
    ]


def _fields(
    result: ResultRecord, titles: Mapping[str, str], text: Callable[[str], str] = _as_written
) -> dict[str, Any]:
    """The record fields the template shows, as plain strings (severity by its findings.json name, or None; the
    title in the report's language where `titles` knows it, message, reason and note through `text`)."""
    return {
        "check": result.check,
        "variant": result.variant,
        "severity": _severity(result),
        "title": titles.get(result.title, result.title) if result.title else result.title,
        "message": text(result.message),
        "reason": text(result.reason),
        "note": text(result.note) if result.note else result.note,
        "applies": result.applies,
        "fingerprint": result.fingerprint,
    }


def _severity(result: ResultRecord) -> str | None:
    return result.severity.value if result.severity else None


def _acceptance(result: ResultRecord) -> dict[str, Any]:
    acceptance = result.acceptance
    if acceptance is None:
        return {"justification": None, "owner": None, "expires": None}
    return {"justification": acceptance.justification, "owner": acceptance.owner, "expires": acceptance.expires}


def _skipped(results: Records, text: Callable[[str], str] = _as_written) -> list[dict[str, Any]]:
    """Skips grouped by reason: first those that were not tested, then those that do not apply to the target."""
    groups: dict[tuple[bool, str], list[dict[str, Any]]] = defaultdict(list)
    for item in _listing(results, Outcome.SKIP, text=text):
        result = item["result"]
        groups[result.get("applies", True), str(result.get("reason") or "")].append(item)
    ordered = sorted(groups.items(), key=lambda group: (not group[0][0], -len(group[1]), group[0][1]))
    return [{"reason": reason, "applies": applies, "items": items} for (applies, reason), items in ordered]


def _integrity(findings_path: Path) -> dict[str, Any]:
    digest = file_sha256(findings_path) if findings_path.is_file() else None
    return {"file": findings_path.name, "sha256": digest}
