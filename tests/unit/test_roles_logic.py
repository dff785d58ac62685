"""Roles in the profile, the pure parts of the role checks (suites/test_roles.py) and the report's access matrix."""

from __future__ import annotations

from typing import Any

import pytest

from fixtures.api.access import Requirement, RoleOrder, Seen, Source
from fixtures.errors import ProfileError
from fixtures.identity.base import Identity, TestUser
from fixtures.target.profile import IdentitySettings, load_profile
from reports import Outcome, ResultRecord
from reports._access import access_matrix
from suites.test_roles import (
    ANONYMOUS,
    access_record,
    attacker_roles,
    caller_role,
    carries,
    injected_fields,
    privileged_value,
    with_marker,
)

ORDER = RoleOrder(("patient", "therapist", "admin"))


def tokens_identity(**roles: Any) -> IdentitySettings:
    return IdentitySettings.model_validate({"provider": "tokens", "tokens": ["${A}", "${B}"], **roles})


def test_roles_default_to_one_and_take_short_and_long_forms() -> None:
    assert tokens_identity().role_names == ["user"]
    settings = tokens_identity(roles=["patient", {"name": "admin", "tokens": ["${C}"]}],
                               role_operations={"DELETE /catalogue/{id}": ["admin"]})
    assert settings.role_names == ["patient", "admin"]
    assert settings.roles[1].tokens == ["${C}"]


@pytest.mark.parametrize(("roles", "message"), [
    ({"roles": ["a", "a"]}, "unique"),
    ({"roles": ["patient", {"name": "admin"}]}, "give tokens"),
    ({"roles": ["patient", {"name": "admin", "realm_roles": ["x"]}]}, "realm_roles does not apply"),
    ({"roles": ["patient", {"name": "admin", "tokens": ["${C}"], "may_call": ["patinet"]}]}, "did you mean 'patient'"),
    ({"roles": ["patient", {"name": "admin", "tokens": ["${C}"]}], "role_operations": {"DELETE /x": ["amdin"]}},
     "did you mean 'admin'"),
    ({"role_operations": {"DELETE /x": ["admin"]}}, "needs identity.roles"),
    ({"roles": ["patient", {"name": "admin", "tokens": ["${C}"]}], "role_operations": {"/x": ["admin"]}},
     "METHOD /path"),
])
def test_bad_roles_are_explained(roles: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        tokens_identity(**roles)


def test_a_role_account_password_must_come_from_the_environment(tmp_path: Any) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(
        "name: x\nenvironment: ci\nlauncher: external\nbackend: {base_url: 'http://127.0.0.1:1'}\n"
        "identity:\n  provider: backend_api\n  backend: {login: POST /login, login_body: {u: '{username}'}}\n"
        "  roles: [patient, {name: staff, accounts: [{username: desk, password: hunter2}]}]\n")
    with pytest.raises(ProfileError, match="literal secret"):
        load_profile(profile)


def test_identity_keeps_role_users_over_the_wire_and_hides_their_secrets() -> None:
    staff = TestUser("staff-1", "desk", "s3cret-pass", "d@example.org", "", "", "", "cnry1")
    identity = Identity("tag", [], None, role_users={"staff": [staff]})  # type: ignore[arg-type]
    data = identity.to_dict()
    data["clients"] = {"main": "", "other_audience": "", "short_lived": ""}
    again = Identity.from_dict(data)
    assert again.users_of("staff", ["patient", "staff"]) == [staff]
    assert again.users_of("patient", ["patient", "staff"]) == []
    assert ("s3cret-pass", "password:staff-1") in again.secrets()


def test_who_sends_the_baseline_and_who_attacks() -> None:
    needs_therapist = Requirement("therapist", Source.PROFILE)
    assert caller_role(ORDER, needs_therapist) == "admin"
    assert attacker_roles(ORDER, needs_therapist) == ["patient", ANONYMOUS]
    # nothing declared: every role but the most privileged tries, anonymous is unauthenticated_access's question
    assert attacker_roles(ORDER, Requirement(None, Source.NONE)) == ["patient", "therapist"]
    # may_call: an admin who may not call therapist operations is no caller for them
    order = RoleOrder(ORDER.names, may_call={"admin": frozenset({"patient"}), "therapist": frozenset({"patient"})})
    assert caller_role(order, needs_therapist) == "therapist"


def test_replayed_writes_carry_marked_values() -> None:
    body = {"name": "cnryabc123c7", "tags": ["x cnryabc123c12 y"], "n": 3}
    assert with_marker(body, "cnryabc123", 5) == {"name": "cnryabc123m5", "tags": ["x cnryabc123m5 y"], "n": 3}
    assert with_marker(None, "cnryabc123", 5) is None


def test_privileged_values_follow_the_schema() -> None:
    assert privileged_value("is_admin", {}, ORDER, "u2") is True
    assert privileged_value("role", {}, ORDER, "u2") == "admin"
    assert privileged_value("role", {"enum": ["PATIENT", "ADMIN"]}, ORDER, "u2") == "ADMIN"
    assert privileged_value("roles", {"type": "array"}, ORDER, "u2") == ["admin"]
    assert privileged_value("owner_id", {"type": "integer"}, ORDER, "42") == 42
    assert privileged_value("tenantId", {}, ORDER, "u2") == "u2"


def test_injected_fields_are_read_only_response_only_and_well_known_names() -> None:
    from fixtures.api.catalogue import Operation

    op = Operation("PATCH", "/me", None, (), True, "", (), {"properties": {
        "display_name": {"type": "string"}, "level": {"type": "string", "readOnly": True}}}, "application/json")
    fields = injected_fields(op, [{"properties": {"display_name": {}, "account_role": {"type": "string"},
                                                  "email_confirmed": {"type": "boolean"}, "created": {}}}],
                             ORDER, "u2")
    assert fields["level"] == "admin"  # readOnly in the request schema
    assert fields["account_role"] == "admin"
    assert fields["email_confirmed"] is True
    assert "created" not in fields
    assert "display_name" not in fields
    assert fields["is_superuser"] is True
    assert fields["user_id"] == "u2"


def test_stored_values_are_found_at_the_top_or_one_level_down() -> None:
    assert carries({"role": "admin"}, "role", "admin")
    assert carries({"user": {"isAdmin": "true"}}, "is_admin", True)
    assert carries({"roles": ["patient", "admin"]}, "roles", ["admin"])
    assert not carries({"role": "patient"}, "role", "admin")
    assert not carries(None, "role", "admin")


def record(label: str, variant: str, access: dict[str, Any], outcome: Outcome = Outcome.PASS) -> ResultRecord:
    method, _, path = label.partition(" ")
    return ResultRecord(check="function_level_access", method=method, path=path, variant=variant, outcome=outcome,
                        access=access)


def test_the_access_matrix_merges_the_items_of_an_operation() -> None:
    names = RoleOrder(("patient", "staff"))
    needs = Requirement("staff", Source.PROFILE, "`DELETE /x/{id}`")
    records = [
        record("DELETE /x/{id}", "patient", access_record(needs, {"staff": Seen.ALLOWED, "patient": Seen.ALLOWED},
                                                           names), Outcome.FAIL),
        record("DELETE /x/{id}", ANONYMOUS, access_record(needs, {"staff": Seen.ALLOWED, ANONYMOUS: Seen.REFUSED},
                                                           names)),
        record("GET /x", "patient", access_record(Requirement(None, Source.NONE), {}, names), Outcome.SKIP),
        ResultRecord(check="cross_user_read", outcome=Outcome.PASS),
    ]
    matrix = access_matrix(records)
    assert matrix is not None
    assert matrix["roles"] == ["patient", "staff", ANONYMOUS]
    delete = next(row for row in matrix["rows"] if row["operation"] == "DELETE /x/{id}")
    assert (delete["requires"], delete["source"]) == ("staff", "profile")
    assert delete["cells"] == ["allowed", "allowed", "refused"]
    get = next(row for row in matrix["rows"] if row["operation"] == "GET /x")
    assert get["cells"] == ["not tried"] * 3
    assert access_matrix([ResultRecord(check="cross_user_read", outcome=Outcome.PASS)]) is None


def test_access_survives_findings_json() -> None:
    original = record("GET /x", "patient", {"roles": ["patient", "staff"], "requires": "staff", "seen": {}})
    assert ResultRecord.from_dict(original.to_dict()).access == original.access
    assert "access" not in ResultRecord(check="c", outcome=Outcome.PASS).to_dict()


# -- a higher role's user as attacker on the test users' objects (cross_user_read) ---------------------------------
class _Profile:
    def __init__(self, identity: IdentitySettings) -> None:
        self.identity = identity


def higher(**roles: Any) -> list[str]:
    from fixtures.api.access import higher_role_users

    return higher_role_users(_Profile(tokens_identity(**roles)))  # type: ignore[arg-type]


def test_higher_roles_attack_the_test_users_unless_they_see_everyone_by_design() -> None:
    from suites.test_cross_user import role_pairs

    assert higher() == []
    assert higher(roles=["patient", {"name": "therapist", "tokens": ["${T}"]},
                         {"name": "admin", "tokens": ["${A}"]}]) == ["therapist", "admin"]
    assert higher(roles=["patient", {"name": "therapist", "tokens": ["${T}"], "sees_all_users": True},
                         {"name": "admin", "tokens": ["${A}"]}]) == ["admin"]
    # with may_call, only roles that may call the test users' operations are above them
    assert higher(roles=["patient", {"name": "therapist", "tokens": ["${T}"], "may_call": ["patient"]},
                         {"name": "auditor", "tokens": ["${A}"], "may_call": ["auditor"]}]) == ["therapist"]
    assert role_pairs(["therapist", "admin"]) == ("therapist-1->user1", "admin-1->user1")
