"""Public account endpoints: registration, password reset and login, backed by Keycloak.

None of them may tell whether an account exists: same status, same body and (as far as the backend
controls it) the same time for existing and unknown accounts.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

from fastapi import APIRouter, HTTPException, Request, status

from demo.deps import Keycloak, minimum_duration, service_unavailable
from demo.flaws import Flaws
from demo.keycloak_client import KeycloakClient, KeycloakUnavailable, Registration
from demo.schemas import LoginIn, Message, PasswordResetIn, RegistrationIn, TokenOut

log = logging.getLogger(__name__)

REGISTRATION_ACCEPTED = "Thank you. Please check your inbox to complete the registration."
PASSWORD_RESET_ACCEPTED = "If an account exists for this address, we have sent instructions to reset the password."
LOGIN_FAILED = "Invalid username or password"
# Keycloak's answer time depends on the account: a locked account skips the password check. Login takes at least
# this long, so its duration does not tell whether an account exists.
ACCOUNT_MIN_SECONDS = 0.3
MAIL_RELAY_LATENCY_SECONDS = 0.15


def deliver_password_reset_mail(user_id: str) -> None:
    """Hand the reset mail to the mail relay and wait for its answer (simulated: there is no SMTP server)."""
    time.sleep(MAIL_RELAY_LATENCY_SECONDS)
    log.info("password reset mail delivered for user %s", user_id)


def _create_account(keycloak: KeycloakClient, body: RegistrationIn) -> None:
    """Create the account of a registration (on the account worker, after the answer went out)."""
    try:
        result = keycloak.create_user(
            email=body.email, password=body.password, given_name=body.given_name, family_name=body.family_name
        )
    except KeycloakUnavailable as exc:
        log.error("registration failed: %s", exc)
        return
    if result is Registration.EXISTS:
        log.info("registration for an address that already has an account (a real backend mails its owner)")
    elif result is Registration.REJECTED:
        log.warning("Keycloak rejected a registration (password policy?)")


def build_router(flaws: Flaws) -> APIRouter:
    router = APIRouter(prefix="/v1/auth", tags=["account"])

    @router.post("/register", response_model=Message, status_code=status.HTTP_202_ACCEPTED)
    def register(body: RegistrationIn, keycloak: Keycloak, request: Request) -> Message:
        """Accept the registration and create the account after the answer, on the account worker.

        Creating a Keycloak user hashes the password while a taken address is refused at once; under load the
        hash outlasted any fixed padding, so the answer's time told new from taken addresses. The answer now
        waits for nothing that depends on the address (the mail to the inbox would say what happened)."""
        if flaws.enabled("register_user_enumeration"):
            try:
                taken = keycloak.find_user_by_email(body.email) is not None
            except KeycloakUnavailable as exc:
                log.error("registration failed: %s", exc)
                raise service_unavailable() from None
            if taken:
                # FLAW register_user_enumeration: a taken address gets its own status and message.
                raise HTTPException(status.HTTP_409_CONFLICT, "e-mail already registered")
        worker: ThreadPoolExecutor = request.app.state.account_worker
        worker.submit(_create_account, keycloak, body)
        return Message(detail=REGISTRATION_ACCEPTED)

    @router.post("/password-reset", response_model=Message, status_code=status.HTTP_202_ACCEPTED)
    def request_password_reset(body: PasswordResetIn, keycloak: Keycloak) -> Message:
        try:
            account = keycloak.find_user_by_email(body.email)
        except KeycloakUnavailable as exc:
            log.error("password reset failed: %s", exc)
            raise service_unavailable() from None
        if account is None:
            if flaws.enabled("password_reset_user_enumeration"):
                # FLAW password_reset_user_enumeration: unknown addresses get their own status and message.
                raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown e-mail")
        elif flaws.enabled("password_reset_timing"):
            # FLAW password_reset_timing: the mail goes out while the client waits, only for existing accounts.
            deliver_password_reset_mail(account["id"])
        else:
            # Keycloak has no mail server in this deployment: the reset mail is not sent.
            log.info("password reset requested for user %s", account["id"])
        return Message(detail=PASSWORD_RESET_ACCEPTED)

    @router.post("/login", response_model=TokenOut, responses={401: {"model": Message, "description": "Login failed"}})
    def login(body: LoginIn, keycloak: Keycloak) -> TokenOut:
        with minimum_duration(ACCOUNT_MIN_SECONDS):
            try:
                grant = keycloak.password_grant(body.username, body.password)
                if grant is None and flaws.enabled("login_user_enumeration"):
                    # FLAW login_user_enumeration: a "helpful" message tells unknown accounts from wrong passwords.
                    if keycloak.find_user_by_login(body.username) is None:
                        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such user")
                    raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong password")
            except KeycloakUnavailable as exc:
                log.error("login failed: %s", exc)
                raise service_unavailable() from None
        if grant is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, LOGIN_FAILED)
        return TokenOut(access_token=grant.access_token, expires_in=grant.expires_in)

    return router
