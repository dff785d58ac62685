"""The caller's profile and consents; user-scoped paths take the Keycloak user id (``sub``).

No ``from __future__ import annotations`` here: the body model of the profile update depends on a flaw switch and
is chosen inside ``build_router``, so FastAPI must see real annotations.
"""

import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from demo import db
from demo.auth import CurrentUser, User
from demo.deps import DbSession, Keycloak, effective_role, is_uuid, not_found, service_unavailable
from demo.flaws import Flaws
from demo.keycloak_client import KeycloakUnavailable
from demo.roles import RANK, token_role
from demo.schemas import ConsentOut, Message, PasswordChange, ProfileOut, ProfileUpdate, ProfileUpdateLenient

log = logging.getLogger(__name__)

# Given at onboarding in the app (consent_type, version, granted).
ONBOARDING_CONSENTS: tuple[tuple[str, str, bool], ...] = (
    ("terms_of_use", "2.1", True),
    ("privacy_policy", "2.3", True),
    ("research_data_donation", "1.0", False),
)


def ensure_profile(session: Session, user: User) -> db.Profile:
    """The caller's profile, created from the token's claims on first access."""
    profile = session.get(db.Profile, user.sub)
    if profile is not None:
        return profile
    profile = db.Profile(user_id=user.sub, email=user.email, display_name=user.display_name,
                         role=token_role(user.claims))
    session.add(profile)
    session.add_all(
        db.Consent(user_id=user.sub, consent_type=kind, version=version, granted=granted)
        for kind, version, granted in ONBOARDING_CONSENTS
    )
    try:
        session.commit()
    except IntegrityError:  # a concurrent first request created it
        session.rollback()
        profile = session.get(db.Profile, user.sub)
        if profile is None:
            raise
    return profile


def find_profile(session: Session, user_id: str) -> db.Profile | None:
    """Any user's stored profile (Keycloak user ids are UUIDs)."""
    return session.get(db.Profile, user_id) if is_uuid(user_id) else None


def _profile_out(profile: db.Profile, role: str | None = None) -> ProfileOut:
    """The profile as the API shows it; ``role``: the caller's own role (another user's profile shows the stored
    one)."""
    out = ProfileOut.model_validate(profile, from_attributes=True)
    return out.model_copy(update={"role": role}) if role else out


def build_router(flaws: Flaws) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["profile"], responses={401: {"description": "Missing or invalid token"}})
    escalation = flaws.enabled("profile_role_escalation")
    UpdateBody: Any = ProfileUpdateLenient if escalation else ProfileUpdate

    @router.get("/me", response_model=ProfileOut)
    def get_my_profile(user: CurrentUser, session: DbSession) -> ProfileOut:
        profile = ensure_profile(session, user)
        return _profile_out(profile, effective_role(session, user, flaws))

    @router.put("/me", response_model=ProfileOut)
    def update_my_profile(body: UpdateBody, user: CurrentUser, session: DbSession) -> ProfileOut:
        profile = ensure_profile(session, user)
        profile.display_name = body.display_name
        profile.birth_year = body.birth_year
        profile.therapy_goal = body.therapy_goal
        requested = (body.model_extra or {}).get("role") if escalation else None
        if isinstance(requested, str) and requested in RANK:
            # FLAW profile_role_escalation: the update stores a role the client sends (and role checks honour it).
            profile.role = requested
        session.commit()
        return _profile_out(profile, effective_role(session, user, flaws))

    @router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT,
                 responses={400: {"model": Message, "description": "Wrong current password, or a new password the "
                                                                    "realm's password policy refuses"}})
    def change_my_password(body: PasswordChange, user: CurrentUser, keycloak: Keycloak) -> Response:
        """Keycloak sets the new password, so the realm's password policy decides whether it is good enough. The
        current password unchanged is nothing to change."""
        if body.new_password != body.current_password:
            username = str(user.claims.get("preferred_username", ""))
            try:
                if keycloak.password_grant(username, body.current_password) is None:
                    raise HTTPException(status.HTTP_400_BAD_REQUEST, "the current password is wrong")
                if not keycloak.set_password(user.sub, body.new_password):
                    raise HTTPException(status.HTTP_400_BAD_REQUEST, "the new password does not meet the password "
                                                                     "policy")
            except KeycloakUnavailable as exc:
                log.error("password change failed: %s", exc)
                raise service_unavailable() from None
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.get("/users/{user_id}/profile", response_model=ProfileOut, responses={404: {"description": "Not found"}})
    def get_user_profile(user_id: str, user: CurrentUser, session: DbSession) -> ProfileOut:
        if flaws.enabled("user_profile_no_owner_check"):
            # FLAW user_profile_no_owner_check: any signed-in user may read any user's profile.
            profile = ensure_profile(session, user) if user_id == user.sub else find_profile(session, user_id)
        else:
            if user_id != user.sub:
                raise not_found()
            profile = ensure_profile(session, user)
        if profile is None:
            raise not_found()
        own = profile.user_id == user.sub
        return _profile_out(profile, effective_role(session, user, flaws) if own else None)

    @router.get(
        "/users/{user_id}/consents", response_model=list[ConsentOut], responses={404: {"description": "Not found"}}
    )
    def list_user_consents(user_id: str, user: CurrentUser, session: DbSession) -> list[ConsentOut]:
        if user_id != user.sub:
            raise not_found()
        ensure_profile(session, user)
        rows = session.scalars(
            select(db.Consent).where(db.Consent.user_id == user.sub).order_by(db.Consent.consent_type)
        )
        return [ConsentOut.model_validate(row, from_attributes=True) for row in rows]

    return router
