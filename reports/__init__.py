"""digasec writers: typed result records in, findings.json / junit.xml / report.html / SARIF out, plus the gate.

Never imports pytest, httpx or the harness fixtures: the pytest plugin and the CLI both feed it `ResultRecord`s
(ARCHITECTURE.md, "Records"); `load_findings` reads them back from findings.json. `Severity` lives here so that
the checks (`fixtures.engine.checks` re-exports it) and the writers share one type.
"""

from __future__ import annotations

from reports._baseline import BaselineEntry, BaselineError, apply_baseline, load_baseline, write_baseline
from reports._findings import SCHEMA, Findings, fingerprint, load_findings, write_findings
from reports._html import write_html
from reports._junit import write_junit
from reports._pdf import PdfError, pdf_page_count, write_pdf
from reports._records import (
    OUTCOMES,
    Acceptance,
    Evidence,
    FindingsError,
    Outcome,
    ResultRecord,
    Severity,
)
from reports._requirements import (
    RequirementCatalogue,
    RequirementCatalogueError,
    UnknownCheckError,
    load_requirement_catalogue,
)
from reports._sarif import write_sarif
from reports.gate import SEVERITIES, Summary, exit_code_for, summarise
from reports.verdict import Verdict, decide, fail_on_of

__all__ = [
    "OUTCOMES",
    "SCHEMA",
    "SEVERITIES",
    "Acceptance",
    "BaselineEntry",
    "BaselineError",
    "Evidence",
    "Findings",
    "FindingsError",
    "Outcome",
    "PdfError",
    "RequirementCatalogue",
    "RequirementCatalogueError",
    "ResultRecord",
    "Severity",
    "Summary",
    "UnknownCheckError",
    "Verdict",
    "apply_baseline",
    "decide",
    "exit_code_for",
    "fail_on_of",
    "fingerprint",
    "load_baseline",
    "load_findings",
    "load_requirement_catalogue",
    "pdf_page_count",
    "summarise",
    "write_baseline",
    "write_findings",
    "write_html",
    "write_junit",
    "write_pdf",
    "write_sarif",
]
