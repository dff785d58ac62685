"""The interoperable export: the caller's data as a FHIR R4 ``Bundle`` of type ``collection``.

Pure functions of the caller's rows: a Patient, one mood Observation per diary entry, and per PHQ-9
response a QuestionnaireResponse (LOINC panel 44249-1) plus an Observation with the total score (44261-6).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

FHIR_MEDIA_TYPE = "application/fhir+json"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
MOOD_SNOMED = ("285854004", "Emotion (observable entity)")
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DIARY_CODES = "https://mooddiary.example/fhir/CodeSystem/diary"
DIARY_TAG_EXTENSION = "https://mooddiary.example/fhir/StructureDefinition/diary-tag"
USER_ID_SYSTEM = "https://mooddiary.example/fhir/sid/user-id"
PHQ9_QUESTIONNAIRE = "http://loinc.org/q/44249-1"
PHQ9_TOTAL = "44261-6"

# LOINC item codes of the nine PHQ-9 questions, in order.
PHQ9_ITEMS: tuple[tuple[str, str], ...] = (
    ("44250-9", "Little interest or pleasure in doing things"),
    ("44255-8", "Feeling down, depressed, or hopeless"),
    ("44259-0", "Trouble falling or staying asleep, or sleeping too much"),
    ("44254-1", "Feeling tired or having little energy"),
    ("44251-7", "Poor appetite or overeating"),
    ("44258-2", "Feeling bad about yourself - or that you are a failure or have let yourself or your family down"),
    ("44252-5", "Trouble concentrating on things, such as reading the newspaper or watching television"),
    ("44253-3", "Moving or speaking so slowly that other people could have noticed. Or the opposite"),
    ("44260-8", "Thoughts that you would be better off dead, or of hurting yourself in some way"),
)
# LOINC answer list LL358-3 (frequency over the last two weeks).
PHQ9_ANSWERS: tuple[tuple[str, str], ...] = (
    ("LA6568-5", "Not at all"),
    ("LA6569-3", "Several days"),
    ("LA6570-1", "More than half the days"),
    ("LA6571-9", "Nearly every day"),
)


class PatientData(Protocol):
    user_id: str
    email: str | None
    display_name: str
    birth_year: int | None


class MoodData(Protocol):
    id: str
    mood: int
    note: str
    tags: list[str]
    created_at: datetime


class QuestionnaireData(Protocol):
    id: str
    questionnaire: str
    answers: list[int]
    score: int
    severity: str
    comment: str
    created_at: datetime


def fhir_datetime(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _uuid_for(value: str, kind: str) -> str:
    """``value`` if it is a UUID, else a stable UUID derived from it (``urn:uuid:`` needs a UUID)."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{USER_ID_SYSTEM}/{kind}/{value}"))


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}


def patient_resource(patient: PatientData) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": _uuid_for(patient.user_id, "patient"),
        "identifier": [{"system": USER_ID_SYSTEM, "value": patient.user_id}],
        "name": [{"text": patient.display_name}],
    }
    if patient.email:
        resource["telecom"] = [{"system": "email", "value": patient.email}]
    if patient.birth_year:
        resource["birthDate"] = f"{patient.birth_year:04d}"
    return resource


def mood_observation(entry: MoodData, subject: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": _uuid_for(entry.id, "diary-entry"),
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}],
        "code": {
            "coding": [
                {"system": SNOMED, "code": MOOD_SNOMED[0], "display": MOOD_SNOMED[1]},
                {"system": DIARY_CODES, "code": "mood-rating", "display": "Mood self-rating (1-10)"},
            ],
            "text": "Mood self-rating",
        },
        "subject": {"reference": subject},
        "effectiveDateTime": fhir_datetime(entry.created_at),
        "valueInteger": entry.mood,
    }
    if entry.tags:
        resource["extension"] = [{"url": DIARY_TAG_EXTENSION, "valueString": tag} for tag in entry.tags]
    if entry.note:
        resource["note"] = [{"text": entry.note}]
    return resource


def questionnaire_response_resource(response: QuestionnaireData, subject: str) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for (code, text), answer in zip(PHQ9_ITEMS, response.answers, strict=True):
        answer_code, answer_display = PHQ9_ANSWERS[answer]
        items.append(
            {
                "linkId": f"/{code}",
                "text": text,
                "answer": [{"valueCoding": {"system": LOINC, "code": answer_code, "display": answer_display}}],
            }
        )
    items.append({"linkId": f"/{PHQ9_TOTAL}", "text": "Total score", "answer": [{"valueInteger": response.score}]})
    if response.comment:
        items.append({"linkId": "comment", "text": "Comment", "answer": [{"valueString": response.comment}]})
    return {
        "resourceType": "QuestionnaireResponse",
        "id": _uuid_for(response.id, "questionnaire-response"),
        "questionnaire": PHQ9_QUESTIONNAIRE,
        "status": "completed",
        "subject": {"reference": subject},
        "authored": fhir_datetime(response.created_at),
        "item": items,
    }


def phq9_score_observation(response: QuestionnaireData, subject: str, source: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{source}#score")),
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}],
        "code": {
            "coding": [
                {
                    "system": LOINC,
                    "code": PHQ9_TOTAL,
                    "display": "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
                }
            ],
            "text": "PHQ-9 total score",
        },
        "subject": {"reference": subject},
        "effectiveDateTime": fhir_datetime(response.created_at),
        "valueInteger": response.score,
        "interpretation": [{"text": response.severity}],
        "derivedFrom": [{"reference": source}],
    }


def export_bundle(
    patient: PatientData,
    diary_entries: Iterable[MoodData],
    questionnaire_responses: Sequence[QuestionnaireData],
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The caller's data as one FHIR R4 collection bundle; every reference resolves inside the bundle."""
    timestamp = fhir_datetime(now or datetime.now(UTC))
    patient_entry = _entry(patient_resource(patient))
    subject = patient_entry["fullUrl"]
    entries = [patient_entry]
    entries += [_entry(mood_observation(entry, subject)) for entry in diary_entries]
    for response in questionnaire_responses:
        qr_entry = _entry(questionnaire_response_resource(response, subject))
        entries.append(qr_entry)
        entries.append(_entry(phq9_score_observation(response, subject, qr_entry["fullUrl"])))
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": timestamp},
        "type": "collection",
        "timestamp": timestamp,
        "entry": entries,
    }


# -- planted flaws (demo/flaws.py): what a careless export gets wrong -------------------------------------------
def drop_observation_status(bundle: dict[str, Any]) -> dict[str, Any]:
    """The Observations without their required ``status`` (cardinality 1..1): a structural error."""
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Observation":
            entry["resource"].pop("status", None)
    return bundle


def drop_loinc_system(bundle: dict[str, Any]) -> dict[str, Any]:
    """The Observations' LOINC codings without ``system``: a bare code whose code system nobody can tell."""
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Observation":
            for coding in resource["code"]["coding"]:
                if coding.get("system") == LOINC:
                    del coding["system"]
    return bundle
