"""Self-service writes keep the test identities: account fields carry the acting user's own values (request_at,
the seeder), every other field still gets generated values with the user's canary."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest

from fixtures.api.catalogue import Operation, Parameter, build_catalogue
from fixtures.api.datagen import (
    OwnAccount,
    ValueGenerator,
    current_password_fields,
    own_account,
    template_fields,
    with_current_password,
)
from fixtures.engine.context import CheckContext
from fixtures.engine.harness import Harness
from fixtures.engine.seeder import Seeder
from fixtures.identity import TestUser
from fixtures.target.profile import AccountFlowSettings, Profile

TAG = "digasec-20261201205000-a1b2c3"


def make_user(n: int, *, password: str | None = None) -> TestUser:
    return TestUser(key=f"user{n}", username=f"{TAG}-user{n}",
                    password=f"Secret-{n}-pw-0123456789" if password is None else password,
                    email=f"{TAG}-user{n}@example.org", first_name="Ada", last_name="Lovelace", sub=f"sub-{n}",
                    canary=f"cnry00000000000{n}")


def fake_profile(login_body: dict[str, Any] | None = None) -> Profile:
    backend = SimpleNamespace(registration_body={}, login_body=login_body) if login_body is not None else None
    return cast(Profile, SimpleNamespace(
        identity=SimpleNamespace(locale="de_DE", backend=backend), account_flows=AccountFlowSettings(), recipes={},
        read_only=False,
    ))


def context(profile: Profile | None = None) -> CheckContext:
    harness = SimpleNamespace(profile=profile or fake_profile())
    return CheckContext(cast(Harness, harness), "cross_user_write")


def write_op(path: str, schema: dict[str, Any], *, media_type: str = "application/json",
             query: tuple[Parameter, ...] = ()) -> Operation:
    return Operation(method="PUT", path=path, operation_id=None, tags=(), needs_auth=True, auth_reason="bearer",
                     parameters=query, body_schema=schema, body_media_type=media_type)


ACCOUNT_UPDATE = {
    "type": "object",
    "required": ["email", "username", "display_name"],
    "properties": {
        "email": {"type": "string", "format": "email"},
        "username": {"type": "string", "maxLength": 150},
        "display_name": {"type": "string", "maxLength": 100},
        "bio": {"type": "string"},
        "email_notifications": {"type": "boolean"},
        "contact": {"type": "object", "required": ["email"],
                    "properties": {"email": {"type": "string", "format": "email"}}},
    },
}
PASSWORD_CHANGE = {
    "type": "object",
    "required": ["current_password", "new_password", "newPasswordRepeat"],
    "properties": {
        "current_password": {"type": "string", "format": "password"},
        "new_password": {"type": "string", "minLength": 12},
        "newPasswordRepeat": {"type": "string"},
    },
}


# -- request_at ---------------------------------------------------------------------------------------------------
def test_a_self_update_carries_the_users_own_account_values_and_canaries_elsewhere() -> None:
    user = make_user(1)
    request = context().request_at(write_op("/users/me", ACCOUNT_UPDATE), user, "/users/me")
    body = request.json
    assert body["email"] == user.email
    assert body["username"] == user.username
    assert user.canary in body["display_name"]  # other fields: generated, with the canary
    assert user.canary in body["bio"]
    assert body["email_notifications"] is True  # not a string: not an account field
    assert body["contact"]["email"] != user.email  # nested: generated (a canary address)
    assert user.canary in body["contact"]["email"]


def test_a_password_change_keeps_the_password_it_has() -> None:
    user = make_user(2)
    request = context().request_at(write_op("/users/me/password", PASSWORD_CHANGE), user, "/users/me/password")
    assert request.json == dict.fromkeys(("current_password", "new_password", "newPasswordRepeat"), user.password)


def test_form_encoded_bodies_are_filled_the_same_way() -> None:
    user = make_user(1)
    form = write_op("/account", ACCOUNT_UPDATE, media_type="application/x-www-form-urlencoded")
    request = context().request_at(form, user, "/account")
    assert request.media_type == "application/x-www-form-urlencoded"
    assert (request.json["email"], request.json["username"]) == (user.email, user.username)
    assert user.canary in request.json["display_name"]


def test_the_attacker_sends_its_own_values_to_the_victims_path() -> None:
    attacker, victim = make_user(2), make_user(1)
    path = f"/users/{victim.sub}"
    request = context().request_at(write_op("/users/{user_id}", ACCOUNT_UPDATE), attacker, path)
    assert request.path == path
    assert request.json["email"] == attacker.email
    assert victim.email not in str(request.json)
    assert attacker.canary in request.json["display_name"]


def test_required_query_parameters_that_name_the_account_get_own_values() -> None:
    user = make_user(3)
    query = (Parameter("email", "query", True, {"type": "string"}), Parameter("q", "query", True, {"type": "string"}))
    op = write_op("/account/email", {"type": "object", "properties": {}}, query=query)
    request = context().request_at(op, user, "/account/email")
    assert request.params["email"] == user.email
    assert user.canary in request.params["q"]


def test_the_backends_own_login_body_says_what_its_username_is() -> None:
    user = make_user(1)
    profile = fake_profile({"username": "{email}", "password": "{password}"})
    request = context(profile).request_at(write_op("/users/me", ACCOUNT_UPDATE), user, "/users/me")
    assert request.json["username"] == user.email


def test_an_unknown_password_is_generated_rather_than_sent_empty() -> None:
    user = make_user(1, password="")  # identity.provider tokens: no password known
    request = context().request_at(write_op("/users/me/password", PASSWORD_CHANGE), user, "/users/me/password")
    assert all(isinstance(value, str) and value for value in request.json.values())


# -- the seeder ---------------------------------------------------------------------------------------------------
def test_the_seeder_fills_account_fields_of_a_creation_with_the_creators_values() -> None:
    document = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/contacts": {"post": {"requestBody": {"content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["login", "note"],
                "properties": {"login": {"type": "string"}, "note": {"type": "string"}}}}}},
                "responses": {"201": {"description": "ok"}}}},
            "/contacts/{contact_id}": {"get": {"parameters": [
                {"name": "contact_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok"}}}},
        },
    }
    catalogue = build_catalogue(document, "0" * 64, public_operations=[], user_path_params=[])
    user = make_user(1)
    seeder = Seeder(catalogue, cast(Any, None), cast(Any, None), [user], fake_profile())
    plan = seeder.plans["/contacts/{contact_id}"]
    request = seeder._creation_request(plan, {}, f"{user.canary}x1", 1, user, required_only=False)
    assert "multipart" in str(request.media_type)
    assert request.json["login"] == user.username
    assert user.canary in request.json["note"]


# -- which fields are account fields ------------------------------------------------------------------------------
ACCOUNT = OwnAccount(
    {"username": "u", "email": "u@example.org", "password": "pw"},
    {"username": frozenset({"username", "login", "user"}), "email": frozenset({"email"}),
     "password": frozenset({"password", "pass"})},
)


@pytest.mark.parametrize(
    ("name", "schema", "role"),
    [
        ("password", {"type": "string"}, "password"),
        ("current_password", {"type": "string"}, "password"),
        ("oldPass", {"type": "string"}, "password"),
        ("new_password2", {"type": "string"}, "password"),
        ("secret", {"type": "string", "format": "password"}, "password"),
        ("newEmail", {"type": "string"}, "email"),
        ("contact_address", {"type": "string", "format": "email"}, "email"),
        ("email", {"anyOf": [{"type": "string", "format": "email"}, {"type": "null"}]}, "email"),
        ("new_username", {"type": "string"}, "username"),
        ("username", {"type": "string", "format": "email"}, "email"),
        ("user", {"type": "string"}, "username"),
        ("email_notifications", {"type": "boolean"}, None),
        ("email_notifications", {"type": "string"}, None),
        ("user_id", {"type": "string"}, None),
        ("password_reset_token", {"type": "string"}, None),
        ("user", {"type": "integer"}, None),
        ("login", {"type": "string", "enum": ["sso", "password"]}, None),
        ("username", {"type": "string", "format": "uuid"}, None),
        ("display_name", {"type": "string"}, None),
    ],
)
def test_account_fields_by_name_and_schema(name: str, schema: dict[str, Any], role: str | None) -> None:
    assert ACCOUNT.role_of(name, schema) == role


def test_the_generator_without_an_account_generates_as_before() -> None:
    body = ValueGenerator(canary="cnryabc", seed=1).value_for(PASSWORD_CHANGE)
    assert "cnryabc" in body["new_password"]


def test_own_account_reads_the_profiles_field_lists() -> None:
    account = own_account(make_user(1), fake_profile())
    assert account.role_of("e_mail", {"type": "string"}) == "email"  # a default of account_flows.email_fields
    assert account.value_for("passwd", {}) == make_user(1).password


def test_template_fields_take_single_placeholders_only() -> None:
    fields = template_fields([{"userName": "{email}", "pw": "{password}", "note": "hi {username}", "n": 3},
                              {"userName": "{username}"}])
    assert fields == {"username": "email", "pw": "password"}


def test_restoring_after_the_attacker_set_its_password_names_it_as_the_current_one() -> None:
    body = {"current_password": "mine", "new_password": "mine", "note": "x"}
    restored = with_current_password(body, "attackers", ACCOUNT)
    assert restored == {"current_password": "attackers", "new_password": "mine", "note": "x"}
    assert with_current_password({"new_password": "mine"}, "attackers", ACCOUNT) is None
    assert with_current_password(None, "attackers", ACCOUNT) is None


def test_the_fields_that_ask_for_the_current_password_are_named() -> None:
    body = {"oldPassword": "x", "current_password": "y", "new_password": "z", "password": "z", "note": "n"}
    assert current_password_fields(body, ACCOUNT) == ["oldPassword", "current_password"]
    assert current_password_fields({"new_password": "z"}, ACCOUNT) == []
    assert current_password_fields(["not", "a", "body"], ACCOUNT) == []
