"""The interoperable export's pure parts: finding it, judging a payload's structure, codings, references and owners,
reading the HAPI validator's answer, the profile's `export:` section and the report's rows."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from fixtures.analysis import fhir
from fixtures.api.catalogue import build_catalogue
from fixtures.api.export import find_exports, manifest_urls, ndjson_bundle, unmatched_exports
from fixtures.errors import ProfileError
from fixtures.target.profile import load_profile
from reports import Outcome, ResultRecord
from reports._export import export_rows

PATIENT_URL = "urn:uuid:7c1f3e58-2b4d-4f0e-9d1a-3f7e0c5b9a11"
CANARY_A, CANARY_B = "dgsAAAA1111", "dgsBBBB2222"


def bundle() -> dict[str, Any]:
    """A small valid collection: a Patient, an Observation (LOINC) and a QuestionnaireResponse of that patient."""
    subject = {"reference": PATIENT_URL}
    return {
        "resourceType": "Bundle", "type": "collection", "meta": {"profile": ["https://example.org/fhir/export"]},
        "entry": [
            {"fullUrl": PATIENT_URL, "resource": {
                "resourceType": "Patient", "id": PATIENT_URL[9:],
                "identifier": [{"system": "https://example.org/id", "value": "a-1"}]}},
            {"fullUrl": "urn:uuid:0b6c2f0e-5a4e-4d3c-8f8e-1c2d3e4f5a6b", "resource": {
                "resourceType": "Observation", "id": "0b6c2f0e-5a4e-4d3c-8f8e-1c2d3e4f5a6b", "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "44261-6"}]}, "subject": subject,
                "valueQuantity": {"value": 7, "unit": "score", "system": "http://unitsofmeasure.org",
                                  "code": "{score}"},
                "note": [{"text": f"a good day {CANARY_A}c1"}]}},
            {"fullUrl": "urn:uuid:1d2e3f40-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "resource": {
                "resourceType": "QuestionnaireResponse", "id": "1d2e3f40-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                "status": "completed", "subject": subject,
                "item": [{"linkId": "1", "answer": [{"valueCoding": {"system": "http://loinc.org", "code": "LA6568-5",
                                                                      "display": "Not at all"}}]}]}},
        ],
    }


def resource(payload: dict[str, Any], index: int) -> dict[str, Any]:
    entry: dict[str, Any] = payload["entry"][index]["resource"]
    return entry


# -- finding the export ---------------------------------------------------------------------------------------------
def document(paths: dict[str, Any]) -> dict[str, Any]:
    return {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": paths}


def get(content: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"get": {"responses": {"200": {"description": "ok", "content": content or {"application/json": {}}}}}}


def exports_of(paths: dict[str, Any], named: tuple[str, ...] = (), *, discover: bool = True) -> dict[str, str]:
    catalogue = build_catalogue(document(paths), "0" * 64, public_operations=[], user_path_params=[])
    return {found.operation.label: found.reason for found in find_exports(catalogue, named, discover=discover)}


def test_found_by_media_type_bundle_schema_and_path() -> None:
    bundle_schema = {"application/json": {"schema": {"type": "object", "properties": {
        "resourceType": {"type": "string", "enum": ["Bundle"]}}}}}
    found = exports_of({
        "/v1/me/record": get({"application/fhir+json": {"schema": {"type": "object"}}}),
        "/v1/summary": get(bundle_schema),
        "/v1/patients/export": get(),
        "/v1/notes": get(),
        "/v1/export/{job_id}": {"get": {"parameters": [{"name": "job_id", "in": "path", "required": True,
                                                       "schema": {"type": "string"}}],
                                        "responses": {"200": {"description": "ok"}}}},
    })
    assert found == {
        "GET /v1/me/record": "its 200 response is declared as application/fhir+json",
        "GET /v1/summary": "its 200 response schema is a FHIR Bundle",
        "GET /v1/patients/export": "its path has the segment `export`",
    }


def test_bulk_export_kickoff_and_the_profiles_named_operation() -> None:
    paths = {"/fhir/Patient/$export": get(), "/v1/take-out": get()}
    assert exports_of(paths) == {"GET /fhir/Patient/$export": "its path has the segment `fhir`"}
    named = exports_of(paths, ("GET /v1/take-out",), discover=False)
    assert named == {"GET /v1/take-out": "named in the profile (export.operations)"}


def test_nothing_found_and_a_misnamed_operation_gets_a_suggestion() -> None:
    paths = {"/v1/notes": get(), "/v1/take-out": get()}
    assert exports_of(paths) == {}
    catalogue = build_catalogue(document(paths), "0" * 64, public_operations=[], user_path_params=[])
    assert unmatched_exports(catalogue, ["GET /v1/takeout", "GET /v1/notes"]) == [
        "export.operations 'GET /v1/takeout': no operation 'GET /v1/takeout'; did you mean 'GET /v1/take-out'?"]


def test_bulk_data_manifest_and_ndjson_become_one_bundle() -> None:
    manifest = {"output": [{"type": "Patient", "url": "/files/1.ndjson"}, {"type": "Observation", "url": 5}]}
    assert manifest_urls(manifest) == ["/files/1.ndjson"]
    assert manifest_urls([]) == []
    joined = ndjson_bundle(['{"resourceType": "Patient", "id": "p"}\n\n', '{"resourceType": "Observation", "id": "o"}'])
    assert joined["type"] == "collection"
    assert [e["resource"]["id"] for e in joined["entry"]] == ["p", "o"]


# -- validity -------------------------------------------------------------------------------------------------------
def test_a_valid_bundle_has_no_error_by_either_rule_set() -> None:
    payload = bundle()
    assert fhir.structure_issues(payload) == []
    assert fhir.bundle_issues(payload, {"Observation.code": ["http://loinc.org", "http://snomed.info/sct"]}) == []
    assert fhir.claimed_profiles(payload) == ["https://example.org/fhir/export"]


def test_structural_errors_carry_fhirpath_locations() -> None:
    payload = bundle()
    del resource(payload, 1)["status"]
    resource(payload, 2)["status"] = 7
    locations = {issue.location for issue in fhir.structure_issues(payload)}
    assert "Bundle.entry[1].resource.status" in locations
    assert any(location.startswith("Bundle.entry[2].resource") for location in locations)
    assert fhir.structure_issues([1])[0].message == "the payload is not a FHIR resource (no resourceType)"
    assert "unknown resourceType" in fhir.structure_issues({"resourceType": "Nonsense"})[0].message


def test_codings_without_system_or_with_a_name_for_it_are_errors() -> None:
    payload = bundle()
    resource(payload, 1)["code"]["coding"][0].pop("system")
    resource(payload, 2)["item"][0]["answer"][0]["valueCoding"]["system"] = "LOINC"
    resource(payload, 1)["valueQuantity"].pop("system")
    issues = {(i.location, i.message) for i in fhir.bundle_issues(payload, {"Observation.code": ["http://loinc.org"]})}
    assert issues == {
        ("Bundle.entry[1].resource.code.coding[0]", "coding '44261-6' has no code system (system)"),
        ("Bundle.entry[1].resource.valueQuantity", "coded quantity '{score}' has no code system (system)"),
        ("Bundle.entry[2].resource.item[0].answer[0].valueCoding.system",
         "code system 'LOINC' is not its canonical URI http://loinc.org"),
        ("Bundle.entry[1].resource.code",
         "Observation.code has no coding of http://loinc.org (the profile's export.code_systems)"),
    }


def test_references_must_resolve_inside_the_bundle_and_the_type_must_be_known() -> None:
    payload = bundle()
    payload["type"] = "dump"
    resource(payload, 2)["subject"] = {"reference": "urn:uuid:00000000-0000-4000-8000-000000000000"}
    resource(payload, 1)["subject"] = {"reference": f"Patient/{PATIENT_URL[9:]}"}  # Type/id of an entry: resolves
    resource(payload, 1)["specimen"] = {"reference": "https://elsewhere.example/Specimen/1"}  # absolute: not judged
    issues = fhir.bundle_issues(payload)
    assert [(i.location, i.severity) for i in issues] == [("Bundle.type", "error"),
                                                           ("Bundle.entry[2].resource.subject.reference", "error")]


def test_the_hapi_validators_answer_is_read_with_plain_locations() -> None:
    line = json.dumps({"messages": [
        {"severity": "ERROR", "location": "Bundle.entry[1].resource/*Observation/x*/.code",
         "message": "Observation.status: minimum required = 1"},
        {"severity": "WARNING", "location": "Bundle.entry[0].resource/*Patient/p*/", "message": "dom-6"},
        {"severity": "FATAL", "location": "", "message": "JsonParseException"},
        {"severity": "INFORMATION", "location": "Bundle", "message": "fine"},
    ]})
    issues = fhir.hapi_issues(line)
    assert [(i.severity, i.location) for i in issues] == [
        ("error", "Bundle.entry[1].resource.code"), ("warning", "Bundle.entry[0].resource"), ("error", ""),
        ("information", "Bundle")]
    assert len(fhir.errors_of(issues)) == 2


def test_every_kind_of_error_comes_first_once() -> None:
    issues = [fhir.Issue("error", f"Bundle.entry[{i}]", "status missing", "x") for i in range(3)]
    issues += [fhir.Issue("error", f"Bundle.entry[{i}].code", f"coding '{i}' has no code system", "x")
               for i in range(2)]
    assert [i.location for i in fhir.errors_of(issues)] == [
        "Bundle.entry[0]", "Bundle.entry[0].code", "Bundle.entry[1]", "Bundle.entry[2]", "Bundle.entry[1].code"]
    assert fhir.hapi_issues('{"messages": []}') == []


# -- ownership ------------------------------------------------------------------------------------------------------
A = fhir.Person("user1", CANARY_A, ("sub-a", "a@example.org"))
B = fhir.Person("user2", CANARY_B, ("sub-b", "b@example.org"))


def test_the_callers_own_export_is_clean() -> None:
    verdict = fhir.judge_ownership(bundle(), A, [B])
    assert verdict.foreign == []
    assert verdict.patients == [PATIENT_URL]
    assert verdict.own_canary_found
    assert not fhir.judge_ownership(bundle(), B, [A]).own_canary_found


def test_another_users_canary_or_identifier_is_found_with_where() -> None:
    payload = bundle()
    resource(payload, 2)["item"].append({"linkId": "c", "answer": [{"valueString": f"x {CANARY_B}c7"}]})
    resource(payload, 0)["identifier"].append({"system": "https://example.org/sub", "value": "sub-b"})
    verdict = fhir.judge_ownership(payload, A, [B])
    assert verdict.foreign == [("user2", "identifier", "Bundle.entry[0].resource.identifier[1].value"),
                               ("user2", "canary", "Bundle.entry[2].resource.item[1].answer[0].valueString")]


def test_an_identifier_outside_patient_parts_is_not_counted() -> None:
    payload = bundle()
    resource(payload, 1)["note"].append({"text": "sub-b"})
    assert fhir.judge_ownership(payload, A, [B]).foreign == []


def test_references_to_a_second_patient_are_counted() -> None:
    payload = bundle()
    other = copy.deepcopy(payload["entry"][0])
    other["fullUrl"] = "urn:uuid:9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
    other["resource"]["id"] = other["fullUrl"][9:]
    payload["entry"].append(other)
    resource(payload, 2)["subject"] = {"reference": other["fullUrl"]}
    assert fhir.judge_ownership(payload, A, [B]).patients == [PATIENT_URL, other["fullUrl"]]
    resource(payload, 1)["subject"] = {"reference": "Patient/somebody-else"}
    assert fhir.patients_referenced(payload)[-1] == "Patient/somebody-else"


# -- profile and report ---------------------------------------------------------------------------------------------
PROFILE = """
name: t
environment: staging
launcher: external
backend: {base_url: "http://127.0.0.1:8000"}
identity: {provider: tokens, tokens: ["${TOKEN_A}", "${TOKEN_B}"]}
"""


def test_the_profiles_export_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN_A", "a")
    monkeypatch.setenv("TOKEN_B", "b")
    path = tmp_path / "p.yaml"
    path.write_text(PROFILE + "export:\n  operations: ['GET /fhir/$export']\n  code_systems:\n"
                    "    Observation.code: [http://loinc.org]\n")
    export = load_profile(path).export
    assert export.operations == ["GET /fhir/$export"]
    assert export.code_systems == {"Observation.code": ["http://loinc.org"]}
    path.write_text(PROFILE + "export:\n  operation: ['GET /x']\n")
    with pytest.raises(ProfileError, match="did you mean 'operations'"):
        load_profile(path)
    path.write_text(PROFILE + "export:\n  operations: ['/fhir/$export']\n")
    with pytest.raises(ProfileError, match="is not of the form 'METHOD /path'"):
        load_profile(path)


def test_report_rows_show_each_validators_verdict_and_a_skips_reason() -> None:
    first = [{"severity": "error", "location": "Bundle.entry[1].resource", "message": "status missing",
              "source": "HAPI FHIR"}]
    records = [
        ResultRecord(check="fhir_export_valid", method="GET", path="/x", variant="hapi", outcome=Outcome.SKIP,
                     reason="the HAPI instance validator cannot run here: no JDK",
                     export={"validator": "HAPI FHIR instance validator (R4)", "profiles": []}),
        ResultRecord(check="fhir_export_valid", method="GET", path="/x", variant="structure", outcome=Outcome.FAIL,
                     export={"validator": "fhir.resources (R4B) + Bundle rules", "verdict": "invalid", "errors": 1,
                             "warnings": 0, "first": first, "profiles": ["p"], "bundle_type": "collection"}),
        ResultRecord(check="fhir_export_own_data", method="GET", path="/x", outcome=Outcome.PASS),
    ]
    rows = export_rows(records, str)
    assert [(r["validator"], r["verdict"], r["errors"]) for r in rows] == [
        ("HAPI FHIR instance validator (R4)", "skipped", 0), ("fhir.resources (R4B) + Bundle rules", "invalid", 1)]
    assert rows[0]["reason"] == "the HAPI instance validator cannot run here: no JDK"
    assert rows[1]["first"] == first
    assert ResultRecord.from_dict(records[1].to_dict()).export == records[1].export


# -- the check's own items and the validator's absence --------------------------------------------------------------
def test_nothing_found_is_one_skip_that_counts_as_not_tested() -> None:
    from fixtures.engine.checks import DoesNotApply
    from fixtures.engine.plugin import NOT_APPLICABLE_MARK, _own_items

    (param,) = _own_items(None, "fhir_export_valid", "no export operation found")  # type: ignore[arg-type]
    names = [mark.name for mark in param.marks]
    assert param.id == "none-found"
    assert "skip" in names
    assert NOT_APPLICABLE_MARK not in names
    (param,) = _own_items(None, "fhir_export_valid", DoesNotApply("n/a"))  # type: ignore[arg-type]
    assert NOT_APPLICABLE_MARK in [mark.name for mark in param.marks]


def test_without_a_jdk_the_java_validator_says_why_and_validates_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from fixtures.engine import fhir_validator

    def no_jdk() -> Path:
        raise fhir_validator.ValidatorUnavailable("no JDK 17+ (java and javac) found: set JAVA_HOME to one")

    monkeypatch.setattr(fhir_validator, "find_jdk", no_jdk)
    validator = fhir_validator.JavaValidator()
    assert validator.unavailable() == "no JDK 17+ (java and javac) found: set JAVA_HOME to one"
    with pytest.raises(fhir_validator.ValidatorUnavailable, match="no JDK"):
        validator.validate(bundle())
