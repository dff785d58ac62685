"""Configuration from environment variables, resolved in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from demo.flaws import Flaws, parse_flaws

DEFAULT_DATABASE_URL = "sqlite:///digasec-demo.db"


@dataclass(frozen=True)
class Settings:
    keycloak_url: str = "http://127.0.0.1:8080"
    keycloak_realm: str = "diga"
    oidc_audience: str = "diga-api"
    backend_client_id: str = "diga-backend"
    backend_client_secret: str = "demo-backend-secret"
    app_client_id: str = "diga-app"
    # the client the backend's own login asks Keycloak for tokens with: the public app client by default; with a
    # secret, a confidential client (the hardened realm keeps password grants off its public clients)
    app_client_secret: str = ""
    database_url: str = DEFAULT_DATABASE_URL
    flaws: Flaws = field(default_factory=Flaws)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings; raises ``UnknownFlawError`` for an unknown id in ``DEMO_FLAWS``."""
        env = os.environ if env is None else env
        defaults = cls()
        return cls(
            keycloak_url=env.get("KEYCLOAK_URL", defaults.keycloak_url).rstrip("/"),
            keycloak_realm=env.get("KEYCLOAK_REALM", defaults.keycloak_realm),
            oidc_audience=env.get("OIDC_AUDIENCE", defaults.oidc_audience),
            backend_client_id=env.get("BACKEND_CLIENT_ID", defaults.backend_client_id),
            backend_client_secret=env.get("BACKEND_CLIENT_SECRET", defaults.backend_client_secret),
            app_client_id=env.get("APP_CLIENT_ID", defaults.app_client_id),
            app_client_secret=env.get("APP_CLIENT_SECRET", defaults.app_client_secret),
            database_url=normalise_database_url(env.get("DATABASE_URL") or DEFAULT_DATABASE_URL),
            flaws=parse_flaws(env.get("DEMO_FLAWS")),
        )

    @property
    def issuer(self) -> str:
        return f"{self.keycloak_url}/realms/{self.keycloak_realm}"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/certs"

    @property
    def token_url(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/token"

    @property
    def admin_url(self) -> str:
        return f"{self.keycloak_url}/admin/realms/{self.keycloak_realm}"


def normalise_database_url(url: str) -> str:
    """Plain ``postgresql://`` URLs use psycopg 3 (the driver installed with the demo), not psycopg2."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
