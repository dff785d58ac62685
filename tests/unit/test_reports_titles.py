"""The German report names its findings in German: every title a suite can raise (found in the suites' source)
has a translation in reports/i18n.yaml, and the report uses it; an unknown title stays as it is."""

from __future__ import annotations

import ast
from pathlib import Path

from reports import Outcome, ResultRecord, Severity
from reports._html import load_strings, report_context

SUITES = Path(__file__).resolve().parents[2] / "suites"


def raised_titles() -> set[str]:
    """The titles in the suites' source: `Failure("…")`, `@check(title="…")`, `*_TITLE = "…"`, `…, title = …, "…"`
    and the first element of a tuple in a dict literal (the token variants' `(title, severity, description)`)."""
    found: set[str] = set()
    for path in sorted(SUITES.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            found |= _titles_in(node)
    return found


def _text(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _titles_in(node: ast.AST) -> set[str]:
    found: set[str | None] = set()
    if isinstance(node, ast.Call):
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        if name == "Failure" and node.args:
            found.add(_text(node.args[0]))
        if name == "check":
            found |= {_text(keyword.value) for keyword in node.keywords if keyword.arg == "title"}
    elif isinstance(node, ast.Assign):
        for target in node.targets:
            if isinstance(target, ast.Name) and target.id.endswith("TITLE"):
                found.add(_text(node.value))
            if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                pairs = zip(target.elts, node.value.elts, strict=False)
                found |= {_text(value) for name, value in pairs if isinstance(name, ast.Name) and name.id == "title"}
    elif isinstance(node, ast.Dict):
        firsts = [value.elts[0] for value in node.values if isinstance(value, ast.Tuple) and value.elts]
        found |= {text for text in map(_text, firsts) if text and text[:1].isupper()}
    return {text for text in found if text}


def test_the_collector_finds_titles_of_every_kind() -> None:
    titles = raised_titles()
    assert "Operation answers without credentials" in titles  # a Failure(...) / @check title
    assert "Operation accepts an expired token" in titles  # a token variant's tuple
    assert "Object ids are guessable" in titles  # a tuple assignment to `title`
    assert len(titles) >= 20


def test_every_title_a_suite_raises_has_a_german_translation() -> None:
    german = load_strings()["de"]["finding_titles"]
    missing = sorted(raised_titles() - set(german))
    assert not missing, f"add these to de.finding_titles in reports/i18n.yaml: {missing}"
    assert not set(german) - raised_titles(), "translations of titles no suite raises any more"


def finding_titles(lang: str, title: str) -> list[str]:
    """The finding groups' titles of a report in `lang` with one failed item titled `title`."""
    record = ResultRecord(check="cross_user_read", outcome=Outcome.FAIL, method="GET", path="/x/{id}",
                          severity=Severity.HIGH, title=title, message="m")
    context = report_context({"id": "r"}, [record], lang=lang, fail_on=Severity.LOW, findings_path=Path("none"))
    return [group["title"] for group in context["findings"]]


def test_the_german_report_titles_its_findings_in_german() -> None:
    read = "User B can read user A's object"
    assert finding_titles("de", read) == ["Benutzer B kann das Objekt von Benutzer A lesen"]
    assert finding_titles("en", read) == [read]
    assert finding_titles("de", "A title of a newer check") == ["A title of a newer check"]  # unknown: kept
