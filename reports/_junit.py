"""junit.xml: one test case per result record, for CI systems that show JUnit reports."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from reports._evidence import evidence_text, xml_safe
from reports._findings import write_text
from reports._records import Outcome, Records, ResultRecord, RunRecord, result_sort_key

JUNIT_FILE = "junit.xml"
_RUN_PROPERTIES = ("id", "profile", "profile_sha256", "openapi_sha256", "harness_version", "harness_commit")


def write_junit(out_dir: Path | str, run: RunRecord, results: Records) -> Path:
    """Write `junit.xml` into `out_dir`: classname = check id, name = `METHOD path [variant]`."""
    ordered = sorted(results, key=result_sort_key)
    counts = Counter(result.outcome for result in ordered)
    attributes = {
        "name": "digasec",
        "tests": str(len(ordered)),
        "failures": str(counts[Outcome.FAIL]),
        "errors": str(counts[Outcome.ERROR]),
        "skipped": str(counts[Outcome.SKIP]),
        "time": _seconds(sum(result.duration_s for result in ordered)),
    }
    root = ET.Element("testsuites", attributes)
    suite = ET.SubElement(root, "testsuite", {**attributes, "timestamp": xml_safe(str(run.get("started") or ""))})
    _properties(suite, run)
    for result in ordered:
        suite.append(_testcase(result))
    ET.indent(root)
    text = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    return write_text(Path(out_dir) / JUNIT_FILE, text)


def testcase_name(result: ResultRecord) -> str:
    name = result.operation or result.check
    return f"{name} [{result.variant}]" if result.variant else name


def _properties(suite: ET.Element, run: RunRecord) -> None:
    properties = ET.SubElement(suite, "properties")
    target = run.get("target") or {}
    values = {f"run.{key}": run.get(key) for key in _RUN_PROPERTIES}
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
        ET.SubElement(case, "skipped", {"message": xml_safe(result.reason)})
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
