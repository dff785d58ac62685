"""The zoo: small target APIs in styles other than the demo's, each with a planted and a clean variant.

| target | style | login | credential |
| --- | --- | --- | --- |
| fastapi_items | FastAPI, OAuth2 password flow | form-encoded `POST /api/login/access-token` | JWT as bearer |
| open_directory | bare ASGI, HTTP 200 failures, public lookups | JSON `POST /login` | `Authorization: Token <key>` |
| header_notes | Starlette, HTTP 200 failures | JSON `POST /login` | `X-Auth-Token` header |
| cookie_journal | http.server, cookie session | JSON `POST /session` | `sid` cookie + `X-CSRF-Token` |
| keyed_shelf | Werkzeug WSGI, client-chosen keys | JSON `POST /api/auth/login` | opaque token as bearer |
| numbered_users | Starlette, user ids that are not the sub | JSON `POST /api/login` | JWT (sub: a UUID) as bearer |
| public_articles | Starlette, public articles, comments, likes | JSON `POST /api/login` | opaque token as bearer |
| team_roster | Werkzeug WSGI, users named in bodies, queries | JSON `POST /api/auth/login` | opaque token as bearer |
| role_desk | Werkzeug WSGI, patient, therapist and staff roles | JSON `POST /api/auth/login` | opaque token as bearer |

Each target directory holds `app.py` (`python -m tests.targets.<name>.app --port N --variant planted|clean`),
`ground_truth.yaml` (the planted flaws) and `profile.yaml` / `profile-clean.yaml` (digasec profiles); keyed_shelf
keeps its OpenAPI document as the file `openapi.yaml` (the profiles read it; the app does not serve it).
"""

from pathlib import Path

TARGETS_DIR = Path(__file__).resolve().parent
TARGETS = ("fastapi_items", "header_notes", "cookie_journal", "keyed_shelf", "open_directory", "numbered_users",
           "public_articles", "team_roster",
           "role_desk")
READY_PATHS = {"fastapi_items": "/api/utils/health-check/", "header_notes": "/health", "cookie_journal": "/healthz",
               "keyed_shelf": "/api/health", "open_directory": "/ping", "numbered_users": "/health",
               "public_articles": "/health", "team_roster": "/api/health",
               "role_desk": "/api/health"}
