"""junit.xml: one test case per result record, for CI systems that show JUnit reports."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from reports._evidence import evidence_text, xml_safe
from reports._findings import write_text
from reports._records import Record, Records, operation_label, result_sort_key

JUNIT_FILE = "junit.xml"
_RUN_PROPERTIES = ("id", "profile", "profile_sha256", "openapi_sha256", "harness_version", "harness_commit")


def write_junit(out_dir: Path | str, run: Record, results: Records) -> Path:
    """Write `junit.xml` into `out_dir`: classname = check id, name = `METHOD path [variant]`."""
    ordered = sorted(results, key=result_sort_key)
    counts = Counter(str(result.get("outcome")) for result in ordered)
    attributes = {
        "name": "digasec",
        "tests": str(len(ordered)),
        "failures": str(counts["fail"]),
        "errors": str(counts["error"]),
        "skipped": str(counts["skip"]),
        "time": _seconds(sum(float(result.get("duration_s") or 0) for result in ordered)),
    }
    root = ET.Element("testsuites", attributes)
    suite = ET.SubElement(root, "testsuite", {**attributes, "timestamp": xml_safe(str(run.get("started") or ""))})
    _properties(suite, run)
    for result in ordered:
        suite.append(_testcase(result))
    ET.indent(root)
    text = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    return write_text(Path(out_dir) / JUNIT_FILE, text)


def testcase_name(result: Record) -> str:
    name = operation_label(result) or str(result.get("check", ""))
    variant = result.get("variant")
    return f"{name} [{variant}]" if variant else name


def _properties(suite: ET.Element, run: Record) -> None:
    properties = ET.SubElement(suite, "properties")
    target = run.get("target") or {}
    values = {f"run.{key}": run.get(key) for key in _RUN_PROPERTIES}
    values.update({f"target.{key}": value for key, value in target.items()})
    for name, value in values.items():
        if value not in (None, ""):
            ET.SubElement(properties, "property", {"name": name, "value": xml_safe(str(value))})


def _testcase(result: Record) -> ET.Element:
    case = ET.Element(
        "testcase",
        {
            "classname": xml_safe(str(result.get("check", ""))),
            "name": xml_safe(testcase_name(result)),
            "time": _seconds(float(result.get("duration_s") or 0)),
        },
    )
    outcome = result.get("outcome")
    if outcome == "fail":
        failure = ET.SubElement(
            case, "failure", {"message": xml_safe(str(result.get("title") or "")), "type": str(result.get("severity"))}
        )
        failure.text = xml_safe(_failure_text(result))
    elif outcome == "skip":
        ET.SubElement(case, "skipped", {"message": xml_safe(str(result.get("reason") or ""))})
    elif outcome == "error":
        error = ET.SubElement(
            case, "error", {"message": xml_safe(str(result.get("reason") or result.get("title") or ""))}
        )
        error.text = xml_safe(_failure_text(result))
    elif outcome == "accepted":
        ET.SubElement(case, "system-out").text = xml_safe(_acceptance_note(result))
    return case


def _failure_text(result: Record) -> str:
    parts = [str(result.get(key)) for key in ("message", "reason") if result.get(key)]
    if result.get("requirements"):
        parts.append("Requirements: " + ", ".join(map(str, result["requirements"])))
    evidence = evidence_text(result)
    if evidence:
        parts.append(evidence)
    return "\n\n".join(parts)


def _acceptance_note(result: Record) -> str:
    acceptance = result.get("acceptance") or {}
    details = ", ".join(f"{key}: {acceptance[key]}" for key in ("owner", "expires") if acceptance.get(key))
    justification = acceptance.get("justification") or "no justification recorded"
    note = f"Accepted risk ({result.get('severity')}): {result.get('title') or ''} - {justification}"
    return f"{note} ({details})" if details else note


def _seconds(value: float) -> str:
    return f"{value:.3f}"
