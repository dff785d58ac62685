"""The result record's `proof`: which reads and logins a verdict rested on, kept for passes too."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from fixtures.api.catalogue import build_catalogue
from fixtures.engine.context import CheckContext
from reports import ResultRecord
from tests.unit.spec_samples import notes_api


def context() -> CheckContext:
    catalogue = build_catalogue(notes_api(), "0" * 64, public_operations=[], user_path_params=["accountId"])
    harness: Any = SimpleNamespace(catalogue=catalogue)
    return CheckContext(harness, "cross_user_write")


def test_a_proof_names_the_template_the_read_went_to() -> None:
    catalogue = context().harness.catalogue
    assert catalogue.template_of("GET", "/notes/5f3a") == "/notes/{note_id}"
    assert catalogue.template_of("GET", "/folders/7/files/x") == "/folders/{folderId}/files/{fileId}"
    assert catalogue.template_of("GET", "/notes") == "/notes"
    assert catalogue.template_of("DELETE", "/notes") == "/notes"  # no such operation: as sent
    assert catalogue.template_of("GET", "/elsewhere/1") == "/elsewhere/1"  # not in the spec: as sent


def test_the_template_is_the_one_with_most_literal_segments_in_common_first_in_the_spec_on_a_tie() -> None:
    paths = [f"/r{index:03d}/entries/{{entry_id}}" for index in range(300)]
    paths += ["/{tenant}/entries/{entry_id}", "/{tenant}/entries/latest", "/r007/{kind}/{entry_id}", "/", "/{a}"]
    document = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
                "paths": {path: {"get": {"responses": {"200": {"description": "ok"}}}} for path in paths}}
    catalogue = build_catalogue(document, "0" * 64, public_operations=[], user_path_params=[])
    assert catalogue.template_of("GET", "/acme/entries/9") == "/{tenant}/entries/{entry_id}"  # a parameter first
    assert catalogue.template_of("GET", "/acme/entries/latest") == "/{tenant}/entries/latest"
    sent = ["/r123/entries/9", "/r123/entries/latest", "/r007/entries/9", "/r007/files/9", "/acme/files/9", "/", "/x",
            "/r299/entries/a/b", "r001/entries/1"]
    for path in sent:
        for method in ("GET", "POST"):
            assert catalogue.template_of(method, path) == _first_best(catalogue.operations, method, path), path


def _first_best(operations: list[Any], method: str, path: str) -> str:
    """The rule, tried on every operation: most literal segments in common, the first on a tie."""
    sent = [segment for segment in path.split("/") if segment]
    best, literal = path, -1
    for op in operations:
        if op.method != method or len(op.segments) != len(sent):
            continue
        pairs = list(zip(op.segments, sent, strict=True))
        if all(part == mine or part.startswith("{") for part, mine in pairs):
            same = sum(part == mine for part, mine in pairs)
            if same > literal:
                best, literal = op.path, same
    return best


def test_each_proof_step_is_listed_once_in_order() -> None:
    ctx = context()
    for step in ("GET /notes/{note_id}", "login as user1", "GET /notes/{note_id}"):
        ctx._proved_by(step)
    assert ctx.proof_steps == ["GET /notes/{note_id}", "login as user1"]


def test_findings_json_keeps_the_proof_and_leaves_it_out_when_there_is_none() -> None:
    raw = {"check": "cross_user_write", "method": "PUT", "path": "/notes/{note_id}", "outcome": "pass",
           "proof": ["GET /notes/{note_id}"]}
    record = ResultRecord.from_dict(raw)
    assert record.proof == ("GET /notes/{note_id}",)
    assert record.to_dict()["proof"] == ["GET /notes/{note_id}"]
    assert "proof" not in ResultRecord.from_dict({**raw, "proof": []}).to_dict()


def test_strategies_are_counted_per_item_with_a_verdict() -> None:
    from bench.strategies import count

    resources = {"/notes/{note_id}": {"producer": "collection POST", "parent": None},
                 "/shelves/{slug}/books/{title}": {"producer": "PUT with a client key", "parent": "/shelves/{slug}"}}
    results = [
        {"check": "cross_user_read", "path": "/notes/{note_id}", "outcome": "fail"},
        {"check": "cross_user_write", "path": "/notes/{note_id}", "outcome": "pass", "proof": ["GET /notes/{note_id}"]},
        {"check": "cross_user_delete", "path": "/shelves/{slug}/books/{title}", "outcome": "pass",
         "proof": ["GET /shelves/{slug}/books"]},
        {"check": "cross_user_write", "path": "/shelves/{slug}/books/{title}", "outcome": "fail",
         "proof": ["GET /shelves/{slug}"]},
        {"check": "cross_user_write", "path": "/users/{username}/password", "outcome": "fail",
         "proof": ["login as user1"]},
        {"check": "cross_user_read", "path": "/notes/{note_id}", "outcome": "skip"},
    ]
    counted = count({"run": {"resources": resources}, "results": results})
    assert counted["producers"] == {"collection POST": 2, "PUT with a client key": 2, "not an object path": 1}
    assert counted["proofs"] == {"the answer itself": 1, "item GET": 1, "list": 1, "parent": 1, "login": 1}
