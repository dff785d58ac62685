"""Request-scoped dependencies and the error responses every route shares."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Response, status
from sqlalchemy.orm import Session

from demo import db
from demo.auth import CurrentUser, User
from demo.flaws import Flaws
from demo.keycloak_client import KeycloakClient
from demo.roles import highest, may_act_as, token_role


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def get_keycloak(request: Request) -> KeycloakClient:
    keycloak: KeycloakClient = request.app.state.keycloak
    return keycloak


DbSession = Annotated[Session, Depends(get_session)]
Keycloak = Annotated[KeycloakClient, Depends(get_keycloak)]

NOT_FOUND_DETAIL = "Not Found"  # the same body as for an unknown route


def not_found() -> HTTPException:
    """Unknown, foreign, deleted and malformed ids all get exactly this response."""
    return HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND_DETAIL)


def delete_found(session: Session, row: object | None) -> Response:
    """Delete a stored object that was found (404 when ``row`` is None) and answer 204."""
    if row is None:
        raise not_found()
    session.delete(row)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def forbidden() -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, "Forbidden")


def effective_role(session: Session, user: User, flaws: Flaws) -> str:
    """The caller's role: the access token's realm roles."""
    role = token_role(user.claims)
    if flaws.enabled("profile_role_escalation"):
        # FLAW profile_role_escalation: the role stored with the profile (which the profile update lets the client
        # set) is honoured as well as the token's.
        stored = session.get(db.Profile, user.sub)
        if stored is not None:
            role = highest((role, stored.role))
    return role


def role_guard(flaws: Flaws, required: str) -> Callable[..., Any]:
    """A dependency that lets only callers of role ``required`` (or a higher one) through; others get 403."""

    def guard(user: CurrentUser, session: DbSession) -> User:
        if not may_act_as(effective_role(session, user, flaws), required):
            raise forbidden()
        return user

    return guard


def required_roles(*roles: str) -> dict[str, Any]:
    """The OpenAPI extension that documents who may call an operation (for client developers and reviewers)."""
    return {"x-required-roles": list(roles)}


def service_unavailable() -> HTTPException:
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Service unavailable, please try again later")


def is_uuid(value: str) -> bool:
    """Whether ``value`` can be a stored id: a UUID in its canonical form (any case)."""
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


@contextmanager
def minimum_duration(seconds: float) -> Iterator[None]:
    """Pad the block to at least ``seconds`` so its duration does not tell which branch ran."""
    deadline = time.monotonic() + seconds
    try:
        yield
    finally:
        remaining = deadline - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)
