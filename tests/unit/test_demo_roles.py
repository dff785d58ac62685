"""The demo's roles in-process: patients, therapists (their assigned patients only) and administrators (the exercise
library and the account list), secure and with the planted role flaws."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from demo import db
from demo.roles import highest, token_role
from tests.unit.test_demo_api import ALICE, BOB, AppClient, auth, make_client, private_key  # noqa: F401

THERAPIST, ADMIN = str(uuid.uuid4()), str(uuid.uuid4())
EXERCISE = {"title": "Breathing 4-7-8", "body": "Breathe in for four seconds ...", "duration_minutes": 5}


def as_role(key: rsa.RSAPrivateKey, sub: str, *roles: str) -> dict[str, str]:
    return auth(key, sub, realm_access={"roles": ["offline_access", *roles]})


@pytest.fixture
def secure(private_key: rsa.RSAPrivateKey, tmp_path: Path) -> Iterator[AppClient]:  # noqa: F811
    yield from make_client("none", private_key, tmp_path)


@pytest.fixture
def flawed(private_key: rsa.RSAPrivateKey, tmp_path: Path) -> Iterator[AppClient]:  # noqa: F811
    yield from make_client("all", private_key, tmp_path)


def assign(client: AppClient, therapist: str, patient: str) -> None:
    with client._app.state.sessions() as session:
        session.add(db.CareAssignment(therapist_id=therapist, patient_id=patient))
        session.commit()


def diary_of(client: AppClient, key: rsa.RSAPrivateKey, sub: str, note: str) -> dict[str, Any]:
    headers = auth(key, sub, given_name=note)
    assert client.get("/v1/me", headers=headers).json()["role"] == "patient"
    response = client.post("/v1/diary-entries", headers=headers, json={"mood": 5, "note": note})
    assert response.status_code == 201
    return dict(response.json())


def test_role_of_a_token_is_its_highest_realm_role() -> None:
    assert token_role({}) == "patient"
    assert token_role({"realm_access": {"roles": ["offline_access"]}}) == "patient"
    assert token_role({"realm_access": {"roles": ["therapist", "admin"]}}) == "admin"
    assert highest(["patient", "therapist"]) == "therapist"


@pytest.mark.parametrize("variant", ["secure", "flawed"])
def test_only_admins_write_the_exercise_library_everyone_reads_it(
        variant: str, request: pytest.FixtureRequest, private_key: rsa.RSAPrivateKey) -> None:  # noqa: F811
    client: AppClient = request.getfixturevalue(variant)
    admin, patient = as_role(private_key, ADMIN, "admin"), auth(private_key, ALICE)
    therapist = as_role(private_key, THERAPIST, "therapist")
    assert client.post("/v1/exercises", headers=patient, json=EXERCISE).status_code == 403
    assert client.post("/v1/exercises", headers=therapist, json=EXERCISE).status_code == 403
    created = client.post("/v1/exercises", headers=admin, json=EXERCISE)
    assert created.status_code == 201
    path = f"/v1/exercises/{created.json()['id']}"
    assert client.get(path, headers=patient).json()["title"] == EXERCISE["title"]
    assert [e["id"] for e in client.get("/v1/exercises", headers=patient).json()] == [created.json()["id"]]
    assert client.put(path, headers=patient, json={**EXERCISE, "title": "x"}).status_code == 403
    assert client.put(path, headers=admin, json={**EXERCISE, "title": "Box breathing"}).json()["title"] == (
        "Box breathing")
    deleted = client.delete(path, headers=patient)
    if variant == "secure":
        assert deleted.status_code == 403
        assert client.delete(path, headers=admin).status_code == 204
    else:  # exercise_delete_without_role
        assert deleted.status_code == 204
    assert client.get(path, headers=admin).status_code == 404


@pytest.mark.parametrize("variant", ["secure", "flawed"])
def test_a_therapist_reads_the_diary_of_its_assigned_patients(
        variant: str, request: pytest.FixtureRequest, private_key: rsa.RSAPrivateKey) -> None:  # noqa: F811
    client: AppClient = request.getfixturevalue(variant)
    diary_of(client, private_key, ALICE, "alice-note")
    diary_of(client, private_key, BOB, "bob-note")
    assign(client, THERAPIST, ALICE)
    therapist = as_role(private_key, THERAPIST, "therapist")
    assert [p["user_id"] for p in client.get("/v1/therapist/patients", headers=therapist).json()] == [ALICE]
    own = client.get(f"/v1/therapist/patients/{ALICE}/diary-entries", headers=therapist)
    assert [e["note"] for e in own.json()] == ["alice-note"]
    foreign = client.get(f"/v1/therapist/patients/{BOB}/diary-entries", headers=therapist)
    if variant == "secure":
        assert foreign.status_code == 404
    else:  # therapist_reads_unassigned_patient
        assert [e["note"] for e in foreign.json()] == ["bob-note"]
    patient = auth(private_key, BOB)
    assert client.get("/v1/therapist/patients", headers=patient).status_code == 403
    assert client.get(f"/v1/therapist/patients/{BOB}/diary-entries", headers=patient).status_code == 403
    assert client.get("/v1/therapist/patients/not-an-id/diary-entries", headers=therapist).status_code == 404


def test_only_admins_list_the_accounts(secure: AppClient, private_key: rsa.RSAPrivateKey) -> None:  # noqa: F811
    diary_of(secure, private_key, ALICE, "alice-note")
    for headers in (auth(private_key, ALICE), as_role(private_key, THERAPIST, "therapist")):
        assert secure.get("/v1/admin/accounts", headers=headers).status_code == 403
    admin = as_role(private_key, ADMIN, "admin")
    assert secure.get("/v1/me", headers=admin).json()["role"] == "admin"
    accounts = {a["user_id"]: a["role"] for a in secure.get("/v1/admin/accounts", headers=admin).json()}
    assert accounts == {ALICE: "patient", ADMIN: "admin"}


def test_a_role_field_on_the_profile_update_is_refused_or_honoured(
        secure: AppClient, flawed: AppClient, private_key: rsa.RSAPrivateKey) -> None:  # noqa: F811
    patient = auth(private_key, ALICE)
    body = {"display_name": "Alice", "role": "admin"}
    assert secure.put("/v1/me", headers=patient, json=body).status_code == 422
    assert secure.get("/v1/me", headers=patient).json()["role"] == "patient"
    assert secure.get("/v1/admin/accounts", headers=patient).status_code == 403
    # profile_role_escalation: the stored role is honoured
    assert flawed.put("/v1/me", headers=patient, json=body).json()["role"] == "admin"
    assert flawed.get("/v1/me", headers=patient).json()["role"] == "admin"
    assert flawed.get("/v1/admin/accounts", headers=patient).status_code == 200
    assert flawed.put("/v1/me", headers=auth(private_key, BOB), json={**body, "role": "root"}).json()["role"] == (
        "patient")
