"""Which producer and proof strategies a scan's cross-user items used, counted from its findings.json.

    python -m bench.strategies FINDINGS.json [FINDINGS.json ...]

Producer: how the harness created the object an item attacks (findings.json `run.resources`, the resource model of
fixtures/api/resources.py: POST on the collection, a key the client chooses, a recipe, ...), looked up for the
item's path. Proof: the reads and logins a verdict rested on (the result record's `proof`): "item GET" (the
object's own path), "list" (its collection), "parent" (an enclosing object), "login" (a changed credential), "other
GET", or "the answer itself" (a read whose own answer decided). Only items with a verdict (pass or fail) count.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CROSS_USER = ("cross_user_read", "cross_user_write", "cross_user_delete", "cross_user_listing")
Resources = Mapping[str, Mapping[str, Any]]


def producer_of(resources: Resources, path: str) -> str:
    """The strategy that made the objects at `path` (an object path, or the collection of one)."""
    for candidate, resource in resources.items():
        if candidate == path or candidate.rpartition("/")[0] == path:
            return str(resource.get("producer") or "no producer")
    return "not an object path"


def proof_kind(step: str, path: str, resources: Resources) -> str:
    if step.startswith("login"):
        return "login"
    method, _, read = step.partition(" ")
    if method != "GET":
        return f"other {method}"
    if read == path:
        return "item GET"
    if read == path.rpartition("/")[0]:
        return "list"
    parents = {resource.get("parent") for candidate, resource in resources.items() if candidate == path}
    return "parent" if read in parents else "other GET"


def count(findings: Mapping[str, Any]) -> dict[str, Counter[str]]:
    resources: Resources = findings["run"].get("resources") or {}
    producers: Counter[str] = Counter()
    proofs: Counter[str] = Counter()
    for result in findings["results"]:
        if result["check"] not in CROSS_USER or result["outcome"] not in ("pass", "fail"):
            continue
        producers[producer_of(resources, result["path"])] += 1
        kinds = sorted({proof_kind(step, result["path"], resources) for step in result.get("proof") or ()})
        proofs[" + ".join(kinds) or "the answer itself"] += 1
    return {"producers": producers, "proofs": proofs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.strategies", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("findings", nargs="+", help="findings.json of a scan")
    for path in parser.parse_args(argv).findings:
        counted = count(json.loads(Path(path).read_text()))
        sys.stdout.write(f"{path}\n")
        for kind, counter in counted.items():
            sys.stdout.write(f"  {kind}: " + ", ".join(f"{name} {n}" for name, n in counter.most_common()) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
