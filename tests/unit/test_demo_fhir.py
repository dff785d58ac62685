"""Shape of the demo backend's FHIR R4 export bundle."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from demo import fhir

SUB = "5f0c2a9e-7d1b-4c4e-9a57-1f3f3d2b8e10"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@dataclass
class Patient:
    user_id: str = SUB
    email: str | None = "alice@example.org"
    display_name: str = "Alice"
    birth_year: int | None = 1985


@dataclass
class Entry:
    mood: int
    note: str = ""
    tags: list[str] = field(default_factory=list)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: datetime = datetime(2025, 2, 28, 20, 15, 30, 123456, tzinfo=UTC)


@dataclass
class Response:
    answers: list[int]
    score: int
    severity: str
    comment: str = ""
    questionnaire: str = "PHQ-9"
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: datetime = datetime(2025, 2, 27, 9, 0, tzinfo=UTC)


def _bundle() -> dict[str, Any]:
    entries = [Entry(mood=7, note="walked in the park", tags=["walk", "sun"]), Entry(mood=3)]
    responses = [Response(answers=[1, 2, 1, 0, 3, 1, 2, 0, 0], score=10, severity="moderate", comment="hard week")]
    return fhir.export_bundle(Patient(), entries, responses, now=NOW)


def _resources(bundle: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type]


def test_bundle_is_a_collection_with_unique_uuid_full_urls() -> None:
    bundle = _bundle()
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "collection"
    assert bundle["timestamp"] == "2025-03-01T12:00:00Z"
    assert bundle["meta"]["lastUpdated"] == bundle["timestamp"]
    full_urls = [entry["fullUrl"] for entry in bundle["entry"]]
    assert len(set(full_urls)) == len(full_urls)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert FHIR_ID.match(resource["id"]), resource["id"]
        assert entry["fullUrl"] == f"urn:uuid:{uuid.UUID(resource['id'])}"


def test_one_patient_and_every_reference_resolves_inside_the_bundle() -> None:
    bundle = _bundle()
    (patient,) = _resources(bundle, "Patient")
    assert patient["identifier"] == [{"system": fhir.USER_ID_SYSTEM, "value": SUB}]
    assert patient["name"] == [{"text": "Alice"}]
    assert patient["birthDate"] == "1985"
    assert patient["telecom"] == [{"system": "email", "value": "alice@example.org"}]
    full_urls = {entry["fullUrl"] for entry in bundle["entry"]}
    patient_url = f"urn:uuid:{patient['id']}"
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] != "Patient":
            assert resource["subject"] == {"reference": patient_url}
        for source in resource.get("derivedFrom", []):
            assert source["reference"] in full_urls


def test_moods_are_survey_observations() -> None:
    moods = [o for o in _resources(_bundle(), "Observation") if o["code"]["coding"][-1]["system"] == fhir.DIARY_CODES]
    assert [o["valueInteger"] for o in moods] == [7, 3]
    first, second = moods
    assert first["status"] == "final"
    assert first["code"]["coding"][0] == {"system": fhir.SNOMED, "code": "285854004",
                                          "display": "Emotion (observable entity)"}
    assert first["category"][0]["coding"][0]["code"] == "survey"
    assert INSTANT.match(first["effectiveDateTime"])
    assert first["note"] == [{"text": "walked in the park"}]
    assert [ext["valueString"] for ext in first["extension"]] == ["walk", "sun"]
    assert "note" not in second
    assert "extension" not in second


def test_questionnaire_response_has_nine_coded_items_total_and_comment() -> None:
    bundle = _bundle()
    (response,) = _resources(bundle, "QuestionnaireResponse")
    assert response["questionnaire"] == fhir.PHQ9_QUESTIONNAIRE
    assert response["status"] == "completed"
    assert response["authored"] == "2025-02-27T09:00:00Z"
    items = response["item"]
    assert [item["linkId"] for item in items[:9]] == [f"/{code}" for code, _ in fhir.PHQ9_ITEMS]
    answers = [item["answer"][0]["valueCoding"]["code"] for item in items[:9]]
    assert answers == [fhir.PHQ9_ANSWERS[a][0] for a in [1, 2, 1, 0, 3, 1, 2, 0, 0]]
    assert items[9] == {"linkId": "/44261-6", "text": "Total score", "answer": [{"valueInteger": 10}]}
    assert items[10]["answer"] == [{"valueString": "hard week"}]
    (score,) = [o for o in _resources(bundle, "Observation") if o["code"]["coding"][0]["code"] == fhir.PHQ9_TOTAL]
    assert score["valueInteger"] == 10
    assert score["derivedFrom"] == [{"reference": f"urn:uuid:{response['id']}"}]


def test_empty_export_holds_only_the_patient() -> None:
    bundle = fhir.export_bundle(Patient(email=None, birth_year=None, user_id="not-a-uuid"), [], [], now=NOW)
    (entry,) = bundle["entry"]
    patient = entry["resource"]
    assert patient["resourceType"] == "Patient"
    assert uuid.UUID(patient["id"])  # derived from the non-UUID user id
    assert patient["identifier"][0]["value"] == "not-a-uuid"
    assert "telecom" not in patient
    assert "birthDate" not in patient
