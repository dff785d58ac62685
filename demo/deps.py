"""Request-scoped dependencies and the error responses every route shares."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from demo.keycloak_client import KeycloakClient


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
