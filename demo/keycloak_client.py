"""The backend's own calls to Keycloak: the admin API (service account) and the token endpoint."""

from __future__ import annotations

import enum
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from demo.settings import Settings


class KeycloakUnavailable(Exception):
    """Keycloak could not be reached or answered with a server error."""


class Registration(enum.Enum):
    CREATED = "created"
    EXISTS = "exists"  # username or e-mail taken
    REJECTED = "rejected"  # e.g. the realm's password policy


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    expires_in: int


class KeycloakClient:
    """Thread-safe; one instance per application."""

    def __init__(self, settings: Settings, http: httpx.Client) -> None:
        self._settings = settings
        self._http = http
        self._lock = threading.Lock()
        self._service_token: str | None = None
        self._service_token_expires_at = 0.0

    # --- admin API (service account of the backend's confidential client) ---

    def find_user_by_email(self, email: str) -> dict[str, Any] | None:
        return self._find_user(email=email)

    def find_user_by_login(self, login: str) -> dict[str, Any] | None:
        """The user who may log in with ``login`` (username, or e-mail since the realm allows it)."""
        user = self._find_user(username=login)
        if user is None and "@" in login:
            user = self._find_user(email=login)
        return user

    def create_user(self, *, email: str, password: str, given_name: str, family_name: str) -> Registration:
        """Create an enabled user with a password."""
        representation = {
            "username": email,
            "email": email,
            "firstName": given_name,
            "lastName": family_name,
            "enabled": True,
            "emailVerified": False,
            "credentials": [{"type": "password", "value": password, "temporary": False}],
        }
        response = self._admin("POST", "/users", json=representation)
        if response.status_code == httpx.codes.CONFLICT:
            return Registration.EXISTS
        if response.status_code == httpx.codes.BAD_REQUEST:
            return Registration.REJECTED
        _raise_for_status(response)
        return Registration.CREATED

    def set_password(self, user_id: str, password: str) -> bool:
        """Set a user's password; False when the realm refuses it (its password policy)."""
        response = self._admin("PUT", f"/users/{user_id}/reset-password",
                               json={"type": "password", "value": password, "temporary": False})
        if response.status_code == httpx.codes.BAD_REQUEST:
            return False
        _raise_for_status(response)
        return True

    def _find_user(self, **query: str) -> dict[str, Any] | None:
        response = self._admin("GET", "/users", params={**query, "exact": "true", "briefRepresentation": "true"})
        if response.status_code == httpx.codes.BAD_REQUEST:  # Keycloak refuses e.g. control characters
            return None
        _raise_for_status(response)
        users = response.json()
        return users[0] if users else None

    def _admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = self._settings.admin_url + path
        response = self._send(method, url, headers={"Authorization": f"Bearer {self._token()}"}, **kwargs)
        if response.status_code == httpx.codes.UNAUTHORIZED:  # token revoked or realm re-imported
            self._forget_token()
            response = self._send(method, url, headers={"Authorization": f"Bearer {self._token()}"}, **kwargs)
        return response

    def _token(self) -> str:
        with self._lock:
            if self._service_token is None or time.monotonic() >= self._service_token_expires_at:
                response = self._send(
                    "POST",
                    self._settings.token_url,
                    data={
                        "grant_type": "client_credentials",
                        "client_id": self._settings.backend_client_id,
                        "client_secret": self._settings.backend_client_secret,
                    },
                )
                if response.status_code != httpx.codes.OK:
                    raise KeycloakUnavailable(
                        f"service-account login of {self._settings.backend_client_id!r} failed: "
                        f"{response.status_code} {response.text[:200]}"
                    )
                body = response.json()
                self._service_token = str(body["access_token"])
                self._service_token_expires_at = time.monotonic() + max(int(body.get("expires_in", 60)) - 30, 5)
            return self._service_token

    def _forget_token(self) -> None:
        with self._lock:
            self._service_token = None

    # --- token endpoint (public client of the app, direct grant) ---

    def password_grant(self, username: str, password: str) -> TokenGrant | None:
        """Tokens for valid credentials; None for any rejection (bad credentials, locked, disabled, ...)."""
        response = self._send(
            "POST",
            self._settings.token_url,
            data={
                "grant_type": "password",
                "client_id": self._settings.app_client_id,
                "username": username,
                "password": password,
                "scope": "openid",
                **({"client_secret": self._settings.app_client_secret} if self._settings.app_client_secret else {}),
            },
        )
        if response.status_code >= 500:
            raise KeycloakUnavailable(f"token endpoint answered {response.status_code}")
        if response.status_code != httpx.codes.OK:
            return None
        body = response.json()
        return TokenGrant(access_token=str(body["access_token"]), expires_in=int(body.get("expires_in", 0)))

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, url, timeout=15.0, **kwargs)
        except httpx.HTTPError as exc:
            raise KeycloakUnavailable(f"{method} {url}: {exc}") from exc


def _raise_for_status(response: httpx.Response) -> None:
    if response.is_error:
        raise KeycloakUnavailable(
            f"{response.request.method} {response.request.url} answered {response.status_code}: {response.text[:200]}"
        )
