"""Bearer-token authentication against Keycloak: RS256 signatures from the realm's JWKS.

A token is accepted only if it is RS256-signed by a key of the realm, was issued by the realm, is meant for
this API (``aud``) and has not expired (no leeway). Anything else is a 401 with one generic body.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

log = logging.getLogger(__name__)

ACCEPTED_ALGORITHMS = ("RS256",)
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub")


class InvalidToken(Exception):
    """The token is not acceptable (the reason is logged, never sent to the client)."""


class KeysUnavailable(Exception):
    """The realm's JWKS could not be fetched."""


@dataclass(frozen=True)
class User:
    """The authenticated caller. ``sub`` (Keycloak's user id) owns everything the caller creates."""

    sub: str
    claims: Mapping[str, Any]

    @property
    def email(self) -> str | None:
        value = self.claims.get("email")
        return value if isinstance(value, str) else None

    @property
    def display_name(self) -> str:
        for claim in ("given_name", "name", "preferred_username"):
            value = self.claims.get(claim)
            if isinstance(value, str) and value.strip():
                return value.strip()[:100]
        return "Patient"


class JwksCache:
    """The realm's signing keys by ``kid``; refetched when a token names an unknown key (rate-limited)."""

    def __init__(self, url: str, http: httpx.Client, *, min_refetch_interval_s: float = 10.0) -> None:
        self._url = url
        self._http = http
        self._min_refetch_interval_s = min_refetch_interval_s
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def key_for(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            if kid not in self._keys and self._may_refetch():
                self._keys = self._fetch()
                self._fetched_at = time.monotonic()
            try:
                return self._keys[kid]
            except KeyError:
                raise InvalidToken(f"unknown signing key {kid!r}") from None

    def _may_refetch(self) -> bool:
        return self._fetched_at is None or time.monotonic() - self._fetched_at >= self._min_refetch_interval_s

    def _fetch(self) -> dict[str, jwt.PyJWK]:
        try:
            response = self._http.get(self._url, timeout=10.0)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise KeysUnavailable(f"cannot fetch JWKS from {self._url}: {exc}") from exc
        keys: dict[str, jwt.PyJWK] = {}
        for entry in document.get("keys", []):
            if entry.get("use", "sig") != "sig" or entry.get("alg") not in ACCEPTED_ALGORITHMS or "kid" not in entry:
                continue
            keys[entry["kid"]] = jwt.PyJWK(entry)
        return keys


class StaticKeys:
    """A fixed key set (tests, or a realm whose keys are pinned)."""

    def __init__(self, keys: Mapping[str, jwt.PyJWK]) -> None:
        self._keys = dict(keys)

    def key_for(self, kid: str) -> jwt.PyJWK:
        try:
            return self._keys[kid]
        except KeyError:
            raise InvalidToken(f"unknown signing key {kid!r}") from None


class TokenValidator:
    def __init__(self, *, issuer: str, audience: str, keys: JwksCache | StaticKeys) -> None:
        self.issuer = issuer
        self.audience = audience
        self._keys = keys

    def validate(self, token: str, *, accept_unsigned: bool = False, verify_expiry: bool = True) -> dict[str, Any]:
        """Return the verified claims or raise ``InvalidToken``.

        ``accept_unsigned`` and ``verify_expiry=False`` exist only for planted flaws (see ``demo/flaws.py``).
        """
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"malformed token: {exc}") from exc
        alg = str(header.get("alg", ""))
        if accept_unsigned and alg.lower() == "none":
            claims = self._decode_unverified(token)
        else:
            if alg not in ACCEPTED_ALGORITHMS:
                raise InvalidToken(f"algorithm {alg!r} not accepted")
            kid = header.get("kid")
            if not isinstance(kid, str):
                raise InvalidToken("token has no key id")
            key = self._keys.key_for(kid)
            try:
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=list(ACCEPTED_ALGORITHMS),
                    audience=self.audience,
                    issuer=self.issuer,
                    leeway=0,
                    options={"require": list(REQUIRED_CLAIMS), "verify_exp": verify_expiry},
                )
            except jwt.PyJWTError as exc:
                raise InvalidToken(str(exc)) from exc
        if str(claims.get("typ", "Bearer")).lower() != "bearer":
            raise InvalidToken(f"not an access token (typ {claims.get('typ')!r})")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise InvalidToken("token has no subject")
        return claims

    def _decode_unverified(self, token: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                options={"verify_signature": False, "verify_exp": True, "verify_aud": True, "verify_iss": True},
                audience=self.audience,
                issuer=self.issuer,
                leeway=0,
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc


bearer_scheme = HTTPBearer(
    scheme_name="bearerAuth",
    bearerFormat="JWT",
    description="Access token of the realm, issued to the patient app (`aud` must contain the API).",
    auto_error=False,
)
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


def unauthorized() -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="Not authenticated",
        headers={"WWW-Authenticate": "Bearer"},
    )


def authenticate(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None,
    *,
    accept_unsigned: bool = False,
    verify_expiry: bool = True,
) -> User:
    """The caller of this request, or a 401 (503 if the realm's keys cannot be fetched)."""
    if credentials is None:
        raise unauthorized()
    validator: TokenValidator = request.app.state.token_validator
    try:
        claims = validator.validate(
            credentials.credentials, accept_unsigned=accept_unsigned, verify_expiry=verify_expiry
        )
    except InvalidToken as exc:
        log.info("rejected token: %s", exc)
        raise unauthorized() from None
    except KeysUnavailable as exc:
        log.error("%s", exc)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Service unavailable") from None
    return User(sub=claims["sub"], claims=claims)


def current_user(request: Request, credentials: BearerCredentials) -> User:
    return authenticate(request, credentials)


CurrentUser = Annotated[User, Depends(current_user)]
