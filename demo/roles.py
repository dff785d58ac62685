"""Roles of the demo's users: patients, therapists (read the data of the patients assigned to them) and
administrators (manage the exercise library and the accounts).

Roles are Keycloak realm roles (the access token's ``realm_access.roles``); an account with none of them is a
patient. A role of higher rank may use everything of a lower one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

PATIENT, THERAPIST, ADMIN = "patient", "therapist", "admin"
Role = Literal["patient", "therapist", "admin"]
RANK: dict[str, int] = {PATIENT: 0, THERAPIST: 1, ADMIN: 2}


def highest(names: Iterable[str]) -> str:
    """The highest-ranking known role among ``names``; a patient when none is known."""
    known = [name for name in names if name in RANK]
    return max(known, key=RANK.__getitem__, default=PATIENT)


def token_role(claims: Mapping[str, Any]) -> str:
    """The role the access token grants (its realm roles)."""
    realm_access = claims.get("realm_access")
    roles = realm_access.get("roles") if isinstance(realm_access, Mapping) else None
    return highest(str(role) for role in roles) if isinstance(roles, list) else PATIENT


def may_act_as(role: str, required: str) -> bool:
    return RANK.get(role, 0) >= RANK[required]
