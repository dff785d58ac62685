"""The application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from demo import PRODUCT_NAME, __version__
from demo.auth import JwksCache, TokenValidator
from demo.db import create_db
from demo.deps import NOT_FOUND_DETAIL
from demo.keycloak_client import KeycloakClient
from demo.routes import account, care, diary, exercises, insights, profile, questionnaires, reminders, system
from demo.settings import Settings

log = logging.getLogger("demo")

DESCRIPTION = """\
Backend of MoodDiary, a digital health application (DiGA): patients keep a mood diary, answer the PHQ-9
questionnaire, set reminders and export their data as FHIR R4. Therapists read the diaries of the patients in their
care; administrators manage the exercise library and the accounts. Roles are the realm roles `therapist` and `admin`
(an account with neither is a patient); operations that need one say so in `x-required-roles`.

Authentication: OpenID Connect with Keycloak. Send the access token of the patient app as `Authorization: Bearer`.
"""


def _operation_id(route: APIRoute) -> str:
    return route.name


async def _path_errors_are_not_found(request: Request, exc: Exception) -> Response:
    """A malformed id in the path is answered like an unknown one: 404, the same body."""
    assert isinstance(exc, RequestValidationError)
    if any(error.get("loc", ("",))[0] == "path" for error in exc.errors()):
        return JSONResponse({"detail": NOT_FOUND_DETAIL}, status_code=404)
    return await request_validation_exception_handler(request, exc)


def create_app(
    settings: Settings,
    *,
    token_validator: TokenValidator | None = None,
    keycloak: KeycloakClient | None = None,
) -> FastAPI:
    """Build the API for ``settings``; ``token_validator`` and ``keycloak`` may be replaced in tests."""
    http = httpx.Client(headers={"User-Agent": f"mooddiary-backend/{__version__}"})
    engine, sessions = create_db(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.flaws.active:
            log.warning("planted security flaws switched on: %s", settings.flaws.describe())
        yield
        app.state.account_worker.shutdown(wait=True)  # registrations accepted before the end are still created
        http.close()
        engine.dispose()

    app = FastAPI(
        title=PRODUCT_NAME,
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions
    app.state.keycloak = keycloak or KeycloakClient(settings, http)
    # Work that follows an answer (creating a registered account), one at a time, outside the request's cycle.
    app.state.account_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="account-worker")
    app.state.token_validator = token_validator or TokenValidator(
        issuer=settings.issuer, audience=settings.oidc_audience, keys=JwksCache(settings.jwks_url, http)
    )
    app.add_exception_handler(RequestValidationError, _path_errors_are_not_found)
    for module in (system, profile, diary, questionnaires, reminders, insights, account, exercises, care):
        app.include_router(module.build_router(settings.flaws))
    return app
