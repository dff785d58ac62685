"""The demo API end to end in-process: SQLite, a local signing key and a fake Keycloak (no network)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from demo.app import create_app
from demo.auth import StaticKeys, TokenValidator
from demo.flaws import parse_flaws
from demo.keycloak_client import Registration, TokenGrant
from demo.routes import account
from demo.settings import Settings

ISSUER = "http://127.0.0.1:18080/realms/diga"
ALICE, BOB = str(uuid.uuid4()), str(uuid.uuid4())


class AppClient:
    """Synchronous requests to the app in-process (httpx's ASGI transport; Starlette's TestClient is deprecated)."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self._app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                return await client.request(method, url, **kwargs)

        return asyncio.run(send())

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)


class FakeKeycloak:
    """Knows one account: alice@example.org / the-right-password."""

    def find_user_by_email(self, email: str) -> dict[str, Any] | None:
        return {"id": ALICE} if email == "alice@example.org" else None

    def find_user_by_login(self, login: str) -> dict[str, Any] | None:
        return self.find_user_by_email(login)

    def create_user(self, *, email: str, password: str, given_name: str, family_name: str) -> Registration:
        return Registration.EXISTS if email == "alice@example.org" else Registration.CREATED

    def password_grant(self, username: str, password: str) -> TokenGrant | None:
        if username == "alice@example.org" and password == "the-right-password":
            return TokenGrant(access_token="token", expires_in=300)
        return None

    def set_password(self, user_id: str, password: str) -> bool:
        """A realm whose password policy is length(12)."""
        return user_id == ALICE and len(password) >= 12


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(autouse=True)
def _no_padding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(account, "ACCOUNT_MIN_SECONDS", 0.0)


def make_client(flaws: str, key: rsa.RSAPrivateKey, tmp_path: Path) -> Iterator[AppClient]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    keys = StaticKeys({"k1": jwt.PyJWK({**jwk, "kid": "k1", "alg": "RS256", "use": "sig"})})
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}", flaws=parse_flaws(flaws))
    app = create_app(
        settings,
        token_validator=TokenValidator(issuer=ISSUER, audience="diga-api", keys=keys),
        keycloak=FakeKeycloak(),  # type: ignore[arg-type]
    )
    yield AppClient(app)
    app.state.engine.dispose()


@pytest.fixture
def secure(private_key: rsa.RSAPrivateKey, tmp_path: Path) -> Iterator[AppClient]:
    yield from make_client("none", private_key, tmp_path)


@pytest.fixture
def flawed(private_key: rsa.RSAPrivateKey, tmp_path: Path) -> Iterator[AppClient]:
    yield from make_client("all", private_key, tmp_path)


def auth(key: rsa.RSAPrivateKey, sub: str, **extra: Any) -> dict[str, str]:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": ["diga-api"], "sub": sub, "iat": now, "exp": now + 300, "typ": "Bearer", **extra}
    return {"Authorization": "Bearer " + jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})}


def seed(client: AppClient, key: rsa.RSAPrivateKey) -> dict[str, Any]:
    a = auth(key, ALICE, given_name="Alice")
    assert client.get("/v1/me", headers=a).json()["display_name"] == "Alice"
    entry = client.post("/v1/diary-entries", headers=a, json={"mood": 6, "note": "canary-alice", "tags": ["x"]})
    answers = {"questionnaire": "PHQ-9", "answers": [1] * 9, "comment": "canary-alice"}
    response = client.post("/v1/questionnaire-responses", headers=a, json=answers)
    reminder = client.post("/v1/reminders", headers=a, json={"title": "canary-alice", "time_of_day": "08:00"})
    assert (entry.status_code, response.status_code, reminder.status_code) == (201, 201, 201)
    return {"entry": entry.json(), "response": response.json(), "reminder": reminder.json()}


def test_openapi_declares_security_on_protected_operations_only(flawed: AppClient) -> None:
    spec = flawed.get("/openapi.json").json()
    public = {"/health", "/v1/info", "/v1/auth/register", "/v1/auth/password-reset", "/v1/auth/login"}
    operations = [(path, op) for path, ops in spec["paths"].items() for op in ops.values()]
    assert len(operations) >= 15
    for path, op in operations:
        assert ("security" in op) == (path not in public), path
    (reminder_id,) = spec["paths"]["/v1/reminders/{reminder_id}"]["get"]["parameters"]
    assert reminder_id["schema"]["type"] == "integer"


def test_created_objects_have_uuid_ids_and_location(secure: AppClient, private_key: rsa.RSAPrivateKey) -> None:
    objects = seed(secure, private_key)
    for obj in objects.values():
        assert uuid.UUID(obj["id"]).version == 4
    assert objects["response"]["score"] == 9
    assert objects["response"]["severity"] == "mild"
    created = secure.post(
        "/v1/reminders", headers=auth(private_key, ALICE), json={"title": "t", "time_of_day": "09:30"}
    )
    assert created.headers["location"] == f"/v1/reminders/{created.json()['id']}"


def test_secure_variant_answers_every_foreign_or_bad_id_alike(
    secure: AppClient, private_key: rsa.RSAPrivateKey
) -> None:
    objects = seed(secure, private_key)
    b = auth(private_key, BOB)
    for collection, key in (
        ("diary-entries", "entry"),
        ("questionnaire-responses", "response"),
        ("reminders", "reminder"),
    ):
        answers = {
            secure.get(f"/v1/{collection}/{object_id}", headers=b).text
            for object_id in (objects[key]["id"], str(uuid.uuid4()), "not-an-id", "1")
        }
        assert answers == {'{"detail":"Not Found"}'}, collection
    assert secure.get(f"/v1/users/{ALICE}/profile", headers=b).status_code == 404
    assert secure.delete(f"/v1/questionnaire-responses/{objects['response']['id']}", headers=b).status_code == 404
    assert "canary-alice" not in secure.get("/v1/reminders", headers=b).text
    assert secure.get(f"/v1/reminders/{objects['reminder']['id']}").status_code == 401


def test_flawed_variant_misbehaves_as_planted(flawed: AppClient, private_key: rsa.RSAPrivateKey) -> None:
    objects = seed(flawed, private_key)
    b = auth(private_key, BOB)
    assert objects["reminder"]["id"] >= 1  # sequential integer
    assert flawed.get(f"/v1/diary-entries/{objects['entry']['id']}", headers=b).status_code == 200
    assert flawed.get(f"/v1/users/{ALICE}/profile", headers=b).json()["display_name"] == "Alice"
    assert "canary-alice" in flawed.get("/v1/reminders", headers=b).text
    assert flawed.get(f"/v1/reminders/{objects['reminder']['id']}").status_code == 200
    changed = {"title": "by bob", "time_of_day": "03:00", "active": False}
    assert flawed.put(f"/v1/reminders/{objects['reminder']['id']}", headers=b, json=changed).status_code == 200
    oracle = [
        flawed.get(f"/v1/questionnaire-responses/{object_id}", headers=b).status_code
        for object_id in (objects["response"]["id"], str(uuid.uuid4()), "not-an-id")
    ]
    assert oracle == [403, 404, 422]
    assert flawed.delete(f"/v1/questionnaire-responses/{objects['response']['id']}", headers=b).status_code == 204


def test_account_endpoints(secure: AppClient, flawed: AppClient) -> None:
    registration = {"password": "long-enough-password", "given_name": "A", "family_name": "B"}
    for client, taken_status in ((secure, 202), (flawed, 409)):
        new = client.post("/v1/auth/register", json={"email": "new@example.org", **registration})
        taken = client.post("/v1/auth/register", json={"email": "alice@example.org", **registration})
        assert (new.status_code, taken.status_code) == (202, taken_status)
    assert secure.post("/v1/auth/password-reset", json={"email": "nobody@example.org"}).status_code == 202
    assert flawed.post("/v1/auth/password-reset", json={"email": "nobody@example.org"}).status_code == 404
    ok = secure.post("/v1/auth/login", json={"username": "alice@example.org", "password": "the-right-password"})
    assert ok.json() == {"access_token": "token", "token_type": "Bearer", "expires_in": 300}
    failures = [
        secure.post("/v1/auth/login", json={"username": user, "password": "wrong"})
        for user in ("alice@example.org", "nobody@example.org")
    ]
    assert {(r.status_code, r.text) for r in failures} == {(401, '{"detail":"Invalid username or password"}')}
    flawed_failures = [
        flawed.post("/v1/auth/login", json={"username": user, "password": "wrong"}).status_code
        for user in ("alice@example.org", "nobody@example.org")
    ]
    assert flawed_failures == [401, 404]


class SlowAccountCreation(FakeKeycloak):
    """Creating an account waits until the test lets it finish (Keycloak hashing the password under load)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.created: list[str] = []

    def create_user(self, *, email: str, password: str, given_name: str, family_name: str) -> Registration:
        assert self.release.wait(10)
        self.created.append(email)
        return super().create_user(email=email, password=password, given_name=given_name, family_name=family_name)


def test_secure_registration_answers_before_the_account_is_created(
    private_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    """The answer waits for nothing that depends on the address: the account is created after it, on the account
    worker, so however long Keycloak takes, new and taken addresses answer alike (no padding involved)."""
    keycloak = SlowAccountCreation()
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}", flaws=parse_flaws("none"))
    app = create_app(settings, keycloak=keycloak)  # type: ignore[arg-type]
    client = AppClient(app)
    registration = {"password": "long-enough-password", "given_name": "A", "family_name": "B"}
    answers = [client.post("/v1/auth/register", json={"email": email, **registration})
               for email in ("new@example.org", "alice@example.org")]
    assert [(a.status_code, a.json()) for a in answers] == [(202, {"detail": account.REGISTRATION_ACCEPTED})] * 2
    assert keycloak.created == []  # both answered while the first creation still waits
    keycloak.release.set()
    app.state.account_worker.shutdown(wait=True)
    assert keycloak.created == ["new@example.org", "alice@example.org"]
    app.state.engine.dispose()


def test_password_reset_timing_flaw_only_slows_existing_accounts(flawed: AppClient) -> None:
    started = time.perf_counter()
    existing = flawed.post("/v1/auth/password-reset", json={"email": "alice@example.org"})
    assert time.perf_counter() - started >= account.MAIL_RELAY_LATENCY_SECONDS
    assert existing.status_code == 202
    assert existing.json() == {"detail": account.PASSWORD_RESET_ACCEPTED}


def test_a_password_change_lets_the_realms_policy_decide(secure: AppClient, private_key: rsa.RSAPrivateKey) -> None:
    alice = auth(private_key, ALICE, preferred_username="alice@example.org")

    def change(current: str, new: str) -> httpx.Response:
        return secure.post("/v1/me/password", headers=alice, json={"current_password": current, "new_password": new})

    assert change("anything", "anything").status_code == 204  # the current one unchanged: nothing to change
    wrong = change("a-wrong-password", "a-long-new-password")
    assert (wrong.status_code, wrong.json()["detail"]) == (400, "the current password is wrong")
    weak = change("the-right-password", "short1")
    assert (weak.status_code, weak.json()["detail"]) == (400, "the new password does not meet the password policy")
    assert change("the-right-password", "a-long-new-password").status_code == 204
    assert secure.post("/v1/me/password", json={"current_password": "x", "new_password": "y"}).status_code == 401
