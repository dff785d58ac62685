"""The access model the role checks assume: role order, required roles from profile, spec and path, evidence."""

from __future__ import annotations

from typing import Any

import pytest

from fixtures.api.access import (
    AccessMatrix,
    RoleOrder,
    Seen,
    Source,
    declared_requirement,
    learned_requirement,
)

ORDER = RoleOrder(("patient", "therapist", "admin"))
DOCUMENT: dict[str, Any] = {
    "components": {"securitySchemes": {
        "oidc": {"type": "openIdConnect", "openIdConnectUrl": "http://127.0.0.1/x"},
        "bearer": {"type": "http", "scheme": "bearer"},
    }},
    "security": [{"bearer": []}],
}


def required(label: str, raw: dict[str, Any] | None = None, profile: dict[str, list[str]] | None = None) -> Any:
    return declared_requirement(label, raw or {}, DOCUMENT, ORDER, profile or {})


def test_the_order_says_who_may_call_what() -> None:
    assert ORDER.allows("admin", "therapist")
    assert not ORDER.allows("patient", "therapist")
    assert ORDER.allows("patient", None)
    assert ORDER.below("therapist") == ["patient"]
    assert ORDER.most_privileged == "admin"


def test_may_call_replaces_the_plain_order() -> None:
    # an admin manages content but may not read therapy data
    order = RoleOrder(("patient", "therapist", "admin"), may_call={"admin": frozenset({"patient"})})
    assert order.allows("admin", "patient")
    assert not order.allows("admin", "therapist")
    assert order.below("therapist") == ["patient", "admin"]


def test_bad_role_definitions_are_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        RoleOrder(("a", "a"))
    with pytest.raises(ValueError, match="unknown roles: ghost"):
        RoleOrder(("a", "b"), may_call={"b": frozenset({"ghost"})})


def test_the_profile_wins_over_everything_else() -> None:
    raw = {"security": [{"oidc": ["admin"]}], "x-roles": ["admin"]}
    requirement = required("DELETE /catalogue/{id}", raw, {"DELETE /catalogue/{id}": ["therapist", "admin"]})
    assert (requirement.role, requirement.source) == ("therapist", Source.PROFILE)


def test_a_profile_entry_with_an_unknown_role_is_an_error_that_lists_the_roles() -> None:
    with pytest.raises(ValueError, match=r"identity\.roles has patient, therapist, admin"):
        required("GET /x", profile={"GET /x": ["root"]})


@pytest.mark.parametrize(
    ("raw", "role", "source"),
    [
        ({"security": [{"oidc": ["content:admin"]}]}, "admin", Source.SCOPES),
        ({"security": [{"oidc": ["ROLE_THERAPIST"]}]}, "therapist", Source.SCOPES),
        ({"security": [{"bearer": []}], "x-required-roles": ["therapist"]}, "therapist", Source.EXTENSION),
        ({"x-permissions": ["reports.admin.read"]}, "admin", Source.EXTENSION),
        ({"security": [{"oidc": ["openid", "profile"]}]}, None, Source.NONE),  # scopes that name no role
    ],
)
def test_roles_declared_in_the_spec(raw: dict[str, Any], role: str | None, source: Source) -> None:
    requirement = required("GET /v1/things", raw)
    assert (requirement.role, requirement.source) == (role, source)


def test_admin_internal_and_management_paths_need_the_most_privileged_role() -> None:
    for path in ("/admin/users", "/v1/internal/metrics", "/management/content/{id}"):
        requirement = required(f"GET {path}")
        assert (requirement.role, requirement.source) == ("admin", Source.PATH)
    assert required("GET /v1/administrative-notes").source is Source.NONE  # a word, not a segment


def test_evidence_makes_an_undeclared_requirement() -> None:
    seen = {"patient": Seen.REFUSED, "therapist": Seen.ALLOWED, "admin": Seen.ALLOWED}
    learned = learned_requirement(required("GET /v1/patients"), seen, ORDER)
    assert (learned.role, learned.source) == ("therapist", Source.EVIDENCE)
    assert "patient refused" in learned.detail


def test_no_evidence_without_a_privileged_success_or_a_refusal() -> None:
    nothing = required("GET /v1/patients")
    assert learned_requirement(nothing, {"admin": Seen.REFUSED, "patient": Seen.REFUSED}, ORDER) == nothing
    assert learned_requirement(nothing, {"admin": Seen.ALLOWED, "patient": Seen.ALLOWED}, ORDER) == nothing
    declared = required("GET /admin/users")
    assert learned_requirement(declared, {"admin": Seen.ALLOWED, "patient": Seen.REFUSED}, ORDER) == declared


def test_the_matrix_lists_every_role_and_what_was_not_tried() -> None:
    matrix = AccessMatrix(ORDER.names)
    matrix.requirements["DELETE /catalogue/{id}"] = required("DELETE /catalogue/{id}", {"x-roles": ["admin"]})
    matrix.record("DELETE /catalogue/{id}", "admin", Seen.ALLOWED)
    matrix.record("DELETE /catalogue/{id}", "patient", Seen.REFUSED)
    (row,) = matrix.to_dict()["operations"]
    assert row["requires"] == "admin"
    assert row["seen"] == {"patient": "refused", "therapist": "not tried", "admin": "allowed"}
