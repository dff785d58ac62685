"""findings.json: the machine-readable record of a run (contract: design.md, schema `digasec/findings/v1`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reports._records import FindingsError, Records, ResultRecord, RunRecord, result_sort_key

SCHEMA = "digasec/findings/v1"
FINDINGS_FILE = "findings.json"


@dataclass(frozen=True)
class Findings:
    """A findings.json read back: the run record as written, the results as typed records."""

    run: dict[str, Any]
    results: list[ResultRecord]


def fingerprint(check: str, method: str, path: str, variant: str | None = None) -> str:
    """sha256 hex of `check|METHOD|path|variant`; without a variant (None or "") the last part is left out."""
    parts = [check, method.upper(), path]
    if variant:
        parts.append(variant)
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


def write_findings(out_dir: Path | str, run: RunRecord, results: Records) -> Path:
    """Write `findings.json` into `out_dir` (created if missing) and return its path.

    Results are sorted by check, path, method and variant so that two runs with the same outcome give the
    same file apart from the run record. `run.verdict` is the run's verdict (`reports.verdict.decide`, with the
    run record's own `fail_on`), so that findings.json says what the exit code and the other outputs say.
    """
    from reports.verdict import decide, fail_on_of

    ordered = [result.to_dict() for result in sorted(results, key=result_sort_key)]
    verdict = decide(run, results, fail_on=fail_on_of(run))
    document = {"schema": SCHEMA, "run": {**run, "verdict": verdict.to_dict()}, "results": ordered}
    text = json.dumps(document, indent=2, ensure_ascii=False, default=_json_default) + "\n"
    return write_text(Path(out_dir) / FINDINGS_FILE, text)


def load_findings(path: Path | str) -> Findings:
    """Read a findings.json: check its schema string and top-level shape, and parse every result record."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise FindingsError(f"{path}: not valid JSON ({error})") from error
    if not isinstance(document, dict):
        raise FindingsError(f"{path}: expected a JSON object at the top level")
    if document.get("schema") != SCHEMA:
        raise FindingsError(f"{path}: schema is {document.get('schema')!r}, expected {SCHEMA!r}")
    if not isinstance(document.get("run"), dict) or not isinstance(document.get("results"), list):
        raise FindingsError(f"{path}: expected a 'run' object and a 'results' list")
    results = [
        ResultRecord.from_dict(result, where=f"{path}: results[{index}]")
        for index, result in enumerate(document["results"])
    ]
    return Findings(run=document["run"], results=results)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def write_text(path: Path, text: str) -> Path:
    """Write UTF-8 text through a temporary file and a rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    return path


def _json_default(value: object) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable in a findings record: {value!r}")
