"""junit.xml: one test case per result record, for CI systems that show JUnit reports."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from reports._evidence import evidence_text, xml_safe
from reports._findings import write_text
from reports._records import Outcome, Records, ResultRecord, RunRecord, Severity, result_sort_key
from reports.verdict import Verdict, decide, fail_on_of

JUNIT_FILE = "junit.xml"
_RUN_PROPERTIES = ("id", "profile", "profile_sha256", "openapi_sha256", "harness_version", "harness_commit")


def write_junit(out_dir: Path | str, run: RunRecord, results: Records, *, fail_on: Severity | None = None) -> Path:
    """Write `junit.xml` into `out_dir`: classname = check id, name = `METHOD path [variant]`.

    The run's verdict is a suite property (`digasec.verdict`); a verdict other than passed is also a failing test
    case `digasec.verdict` listing its reasons, so a CI that reads only JUnit is not green when the gate is not."""
    ordered = sorted(results, key=result_sort_key)
    verdict = decide(run, ordered, fail_on=fail_on or fail_on_of(run))
    cases = [_testcase(result) for result in ordered]
    if not verdict.passed:
        cases.insert(0, _verdict_case(verdict))
    counts = Counter(result.outcome for result in ordered)
    attributes = {
        "name": "digasec",
        "tests": str(len(cases)),
        "failures": str(counts[Outcome.FAIL] + (0 if verdict.passed else 1)),
        "errors": str(counts[Outcome.ERROR]),
        "skipped": str(counts[Outcome.SKIP]),
        "time": _seconds(sum(result.duration_s for result in ordered)),
    }
    root = ET.Element("testsuites", attributes)
    suite = ET.SubElement(root, "testsuite", {**attributes, "timestamp": xml_safe(str(run.get("started") or ""))})
    _properties(suite, run, verdict)
    suite.extend(cases)
    ET.indent(root)
    text = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    return write_text(Path(out_dir) / JUNIT_FILE, text)


VERDICT_CASE = "digasec.verdict"


def _verdict_case(verdict: Verdict) -> ET.Element:
    """The run's verdict as a failing test case (only written when the verdict is not passed)."""
    case = ET.Element("testcase", {"classname": VERDICT_CASE, "name": verdict.status, "time": _seconds(0)})
    message = f"verdict {verdict.status.replace('_', ' ').upper()} (exit code {verdict.exit_code})"
    failure = ET.SubElement(case, "failure", {"message": xml_safe(message), "type": verdict.status})
    failure.text = xml_safe("\n".join(f"- {reason}" for reason in verdict.reasons))
    return case


def testcase_name(result: ResultRecord) -> str:
    name = result.operation or result.check
    return f"{name} [{result.variant}]" if result.variant else name


def _properties(suite: ET.Element, run: RunRecord, verdict: Verdict) -> None:
    properties = ET.SubElement(suite, "properties")
    target = run.get("target") or {}
    values: dict[str, object] = {
        "digasec.verdict": verdict.status,
        "digasec.exit_code": verdict.exit_code,
        "digasec.verdict.reasons": "; ".join(verdict.reasons),
        "digasec.coverage": f"{verdict.tested}/{verdict.items}",
    }
    values.update({f"run.{key}": run.get(key) for key in _RUN_PROPERTIES})
    values.update({f"target.{key}": value for key, value in target.items()})
    for name, value in values.items():
        if value not in (None, ""):
            ET.SubElement(properties, "property", {"name": name, "value": xml_safe(str(value))})


def _testcase(result: ResultRecord) -> ET.Element:
    case = ET.Element(
        "testcase",
        {
            "classname": xml_safe(result.check),
            "name": xml_safe(testcase_name(result)),
            "time": _seconds(result.duration_s),
        },
    )
    if result.outcome is Outcome.FAIL:
        failure = ET.SubElement(case, "failure", {"message": xml_safe(result.title), "type": _severity(result)})
        failure.text = xml_safe(_failure_text(result))
    elif result.outcome is Outcome.SKIP:
        reason = result.reason if result.applies else f"does not apply: {result.reason}"
        ET.SubElement(case, "skipped", {"message": xml_safe(reason)})
    elif result.outcome is Outcome.ERROR:
        error = ET.SubElement(case, "error", {"message": xml_safe(result.reason or result.title)})
        error.text = xml_safe(_failure_text(result))
    elif result.outcome is Outcome.ACCEPTED:
        ET.SubElement(case, "system-out").text = xml_safe(_acceptance_note(result))
    return case


def _severity(result: ResultRecord) -> str:
    return result.severity.value if result.severity else "None"


def _failure_text(result: ResultRecord) -> str:
    parts = [text for text in (result.message, result.reason) if text]
    if result.requirements:
        parts.append("Requirements: " + ", ".join(result.requirements))
    evidence = evidence_text(result)
    if evidence:
        parts.append(evidence)
    return "\n\n".join(parts)


def _acceptance_note(result: ResultRecord) -> str:
    acceptance = result.acceptance
    if acceptance is None:
        return f"Accepted risk ({_severity(result)}): {result.title} - no justification recorded"
    known = (("owner", acceptance.owner), ("expires", acceptance.expires))
    details = ", ".join(f"{key}: {value}" for key, value in known if value)
    justification = acceptance.justification or "no justification recorded"
    note = f"Accepted risk ({_severity(result)}): {result.title} - {justification}"
    return f"{note} ({details})" if details else note


def _seconds(value: float) -> str:
    return f"{value:.3f}"
