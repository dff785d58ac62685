"""findings.json: the machine-readable record of a run (contract: design.md, schema `digasec/findings/v1`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reports._records import OUTCOMES, SEVERITIES, Record, Records, result_sort_key

SCHEMA = "digasec/findings/v1"
FINDINGS_FILE = "findings.json"


class FindingsError(ValueError):
    """A findings document or a result record does not have the contract's shape."""


def fingerprint(check: str, method: str, path: str, variant: str | None = None) -> str:
    """sha256 hex of `check|METHOD|path|variant`; without a variant (None or "") the last part is left out."""
    parts = [check, method.upper(), path]
    if variant:
        parts.append(variant)
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


def write_findings(out_dir: Path | str, run: Record, results: Records) -> Path:
    """Write `findings.json` into `out_dir` (created if missing) and return its path.

    Results are sorted by check, path, method and variant so that two runs with the same outcome give the
    same file apart from the run record.
    """
    for index, result in enumerate(results):
        validate_result(result, where=f"results[{index}]")
    ordered = [dict(result) for result in sorted(results, key=result_sort_key)]
    document = {"schema": SCHEMA, "run": dict(run), "results": ordered}
    text = json.dumps(document, indent=2, ensure_ascii=False, default=_json_default) + "\n"
    return write_text(Path(out_dir) / FINDINGS_FILE, text)


def load_findings(path: Path | str) -> dict[str, Any]:
    """Read a findings.json and check its schema string and top-level shape."""
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
    for index, result in enumerate(document["results"]):
        validate_result(result, where=f"{path}: results[{index}]")
    return document


def validate_result(result: Any, *, where: str = "result") -> None:
    """The minimum every consumer relies on: a check id, a known outcome, a known severity when one is given."""
    if not isinstance(result, Mapping):
        raise FindingsError(f"{where}: expected an object, got {type(result).__name__}")
    if not isinstance(result.get("check"), str) or not result["check"]:
        raise FindingsError(f"{where}: 'check' must be a non-empty string")
    if result.get("outcome") not in OUTCOMES:
        raise FindingsError(f"{where}: outcome {result.get('outcome')!r} is not one of {', '.join(OUTCOMES)}")
    severity = result.get("severity")
    if severity is not None and severity not in SEVERITIES:
        raise FindingsError(f"{where}: severity {severity!r} is not one of {', '.join(SEVERITIES)}")


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
