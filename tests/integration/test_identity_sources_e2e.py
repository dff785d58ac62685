"""Identity sources without Keycloak admin rights give the same outcomes as admin-provisioned users, where
the source allows the check; what it cannot do is a skip that names the missing capability."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import Scan, Staging, run_cli

pytestmark = pytest.mark.integration
COMPARED = ("unauthenticated_access", "invalid_token", "cross_user_read", "cross_user_write", "cross_user_delete")
# without the expired-token variant: it needs Keycloak admin rights, and waits for its token's exp (proved in
# test_authentication_e2e)
SELECTION = f"({' or '.join(COMPARED)}) and not expired"
ADMIN_ONLY_VARIANTS = {"expired", "wrong_audience"}
# an operation that asks for the caller's current password (the demo's password change): a source of pre-issued
# tokens knows none, so the owner's own request fails and every item on it is a skip that says why
UNKNOWN_PASSWORD = "current password"


def scan(staging: Staging, tmp_path: Path, name: str, identity: str, env: dict[str, str]) -> Scan:
    profile = staging.profile(tmp_path, flawed=True, users=3, identity=identity)
    renamed = profile.with_name(f"{name}.yaml")
    profile.rename(renamed)
    return run_cli("run", "--profile", str(renamed), "--", "-k", SELECTION, out=tmp_path / name,
                   env={**staging.credentials(), **env})


def outcomes(result_set: Scan) -> dict[tuple[str, str, str, str], str]:
    return {(r["check"], r["method"], r["path"], r["variant"] or ""): r["outcome"] for r in result_set.results}


@pytest.fixture(scope="module")
def admin_scan(staging: Staging, tmp_path_factory: pytest.TempPathFactory) -> Scan:
    tmp = tmp_path_factory.mktemp("admin-identity")
    return scan(staging, tmp, "admin", "", {})


@pytest.fixture(scope="module")
def accounts(staging: Staging) -> Iterator[list[tuple[str, str]]]:
    """Three accounts that exist before the run (made here with the admin API, which digasec does not get)."""
    from tests.integration.test_cli_contract import admin_of

    admin = admin_of(staging.env)
    made = []
    for index in range(3):
        username, password = f"existing-{secrets.token_hex(4)}-{index}", f"Aa1!{secrets.token_urlsafe(18)}"
        user_id = admin.create_user({"username": username, "email": f"{username}@example.org", "enabled": True,
                                     "emailVerified": True, "firstName": "Erika", "lastName": "Muster",
                                     "credentials": [{"type": "password", "value": password, "temporary": False}]})
        made.append((user_id, username, password))
    yield [(username, password) for _id, username, password in made]
    for user_id, _username, _password in made:
        admin.delete_user(user_id)


def account_env(accounts: list[tuple[str, str]]) -> dict[str, str]:
    env = {}
    for index, (username, password) in enumerate(accounts, start=1):
        env[f"TEST_USER{index}"], env[f"TEST_PASSWORD{index}"] = username, password
    return env


ACCOUNTS_YAML = "\n".join(
    ["  provider: keycloak_accounts", "  client_id: diga-app", "  accounts:"]
    + [f"    - {{username: '${{TEST_USER{i}}}', password: '${{TEST_PASSWORD{i}}}'}}" for i in (1, 2, 3)]
)


def assert_same_where_allowed(admin: Scan, other: Scan, source: str) -> None:
    assert other.exit_code == 1, other.console[-3000:]
    admin_outcomes, other_outcomes = outcomes(admin), outcomes(other)
    compared = unknown_password = 0
    for key, outcome in admin_outcomes.items():
        if source == "tokens" and other_outcomes.get(key) == "skip" and outcome != "skip":
            result = next(r for r in other.results if (r["check"], r["method"], r["path"], r["variant"] or "") == key)
            if UNKNOWN_PASSWORD in result["reason"]:
                assert result["reason"].startswith("baseline failed"), result["reason"]
                assert "identity source `tokens` does not know" in result["reason"], result["reason"]
                unknown_password += 1
                continue
        if key[3] in ADMIN_ONLY_VARIANTS and outcome != "skip":
            result = next(r for r in other.results if (r["check"], r["method"], r["path"], r["variant"]) == (
                key[0], key[1], key[2], key[3]))
            assert result["outcome"] == "skip", result
            assert source in result["reason"], result["reason"]
            continue
        if key[0].startswith("idp_") and other_outcomes.get(key) == "skip" and outcome != "skip":
            # the realm's configuration needs admin rights, the lockout and the weak password accounts of the check's
            # own: a source without them skips, naming itself
            result = next(r for r in other.results if (r["check"], r["method"], r["path"], r["variant"]) == key)
            assert source in result["reason"], result["reason"]
            continue
        assert other_outcomes.get(key) == outcome, (key, outcome, other_outcomes.get(key))
        compared += 1
    assert compared > 50
    assert unknown_password > 0 or source != "tokens"  # the demo's password change is such an operation


def test_existing_accounts_by_direct_grant(staging: Staging, tmp_path: Path, admin_scan: Scan, accounts) -> None:
    identity = f"identity:\n{ACCOUNTS_YAML}\n  audience: diga-api\n"
    other = scan(staging, tmp_path, "accounts", identity, account_env(accounts))
    assert_same_where_allowed(admin_scan, other, "keycloak_accounts")


def test_existing_accounts_by_authorization_code_with_pkce(staging: Staging, tmp_path: Path, accounts) -> None:
    identity = f"identity:\n{ACCOUNTS_YAML}\n  audience: diga-api\n  flow: authorization_code\n"
    result = scan(staging, tmp_path, "pkce", identity, account_env(accounts))
    assert result.exit_code == 1, result.console[-3000:]
    fails = {(r["check"], r["method"], r["path"]) for r in result.results if r["outcome"] == "fail"}
    assert ("unauthenticated_access", "GET", "/v1/reminders/{reminder_id}") in fails, result.console[-3000:]


def test_backend_sign_up_and_login_api(staging: Staging, tmp_path: Path, admin_scan: Scan) -> None:
    identity = """identity:
  provider: backend_api
  users: 3
  backend:
    registration: POST /v1/auth/register
    registration_body:
      {email: "{email}", password: "{password}", given_name: "{given_name}", family_name: "{family_name}"}
    login: POST /v1/auth/login
    login_body: {username: "{email}", password: "{password}"}
    token_json: access_token
"""
    other = scan(staging, tmp_path, "backend", identity, {})
    try:
        assert_same_where_allowed(admin_scan, other, "backend_api")
        problems = other.findings["run"]["cleanup_problems"]
        assert len(problems) == 3
        assert all("offers no deletion" in problem for problem in problems)
    finally:
        remove_registered_accounts(staging)


def remove_registered_accounts(staging: Staging) -> None:
    """The demo's API cannot delete an account (the run lists them as not removed): the test removes them."""
    from tests.integration.test_cli_contract import admin_of

    admin = admin_of(staging.env)
    for user in admin.get_users({"search": "digasec-"}):
        if user["username"].startswith("digasec-") and user["username"].endswith("@example.org"):
            admin.delete_user(user["id"])


def test_pre_issued_tokens(staging: Staging, tmp_path: Path, admin_scan: Scan, accounts) -> None:
    env = {}
    for index, (username, password) in enumerate(accounts, start=1):
        answer = httpx.post(f"{staging.env.keycloak_url}/realms/diga/protocol/openid-connect/token", trust_env=False,
                            data={"grant_type": "password", "client_id": "diga-app", "username": username,
                                  "password": password})
        env[f"TEST_TOKEN{index}"] = answer.json()["access_token"]
    identity = "identity:\n  provider: tokens\n  tokens: ['${TEST_TOKEN1}', '${TEST_TOKEN2}', '${TEST_TOKEN3}']\n"
    other = scan(staging, tmp_path, "tokens", identity, env)
    assert_same_where_allowed(admin_scan, other, "tokens")


# -- a backend with its own login: no Keycloak at all (issue 12) -------------------------------------------------------
OWN_LOGIN_APP = '''
"""A backend with its own sign-up (JSON) and OAuth2 password-flow login (form-encoded), HS256 JWTs, per-user items
(reads planted without an owner check)."""
import base64, hashlib, hmac, json, secrets, sys, time
from urllib.parse import parse_qs

import uvicorn
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel

app = FastAPI(title="own login", version="1")
USERS, TOKENS, ITEMS, KEY = {}, {}, {}, secrets.token_bytes(32)
FORM = {"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
    "type": "object", "required": ["username", "password"],
    "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}}}}}
oauth2 = OAuth2PasswordBearer(tokenUrl="/auth/token")


class Register(BaseModel):
    email: str
    password: str
    full_name: str | None = None


class ItemIn(BaseModel):
    title: str


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def current(token: str = Depends(oauth2)):
    if token not in TOKENS:
        raise HTTPException(401, "not authenticated")
    return TOKENS[token]


@app.get("/health")
def health():
    return {"ok": True}


@app.post("/auth/register", status_code=201)
def register(body: Register):
    if body.email in USERS:
        raise HTTPException(400, "already registered")
    USERS[body.email] = {"password": body.password, "id": len(USERS) + 1}
    return {"id": USERS[body.email]["id"]}


@app.post("/auth/token", openapi_extra=FORM)
async def token(request: Request):
    if "x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        raise HTTPException(422, [{"loc": ["body", "username"], "msg": "field required"}])
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
    user = USERS.get(form.get("username", ""))
    if not user or user["password"] != form.get("password"):
        raise HTTPException(401, "Incorrect username or password")
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    exp = int(time.time()) + 900
    claims = b64(json.dumps({"sub": str(user["id"]), "email": form["username"], "exp": exp}).encode())
    value = f"{head}.{claims}." + b64(hmac.new(KEY, f"{head}.{claims}".encode(), hashlib.sha256).digest())
    TOKENS[value] = form["username"]
    return {"access_token": value, "token_type": "bearer"}


@app.delete("/users/me", status_code=204)
def delete_me(me: str = Depends(current)):
    USERS.pop(me, None)


@app.post("/items", status_code=201)
def create_item(body: ItemIn, me: str = Depends(current)):
    item = {"id": len(ITEMS) + 1, "title": body.title, "owner": me}
    ITEMS[item["id"]] = item
    return item


@app.get("/items/{item_id}")
def read_item(item_id: int, me: str = Depends(current)):
    if item_id not in ITEMS:
        raise HTTPException(404, "no such item")
    return ITEMS[item_id]


@app.delete("/items/{item_id}", status_code=204)
def delete_item(item_id: int, me: str = Depends(current)):
    if item_id not in ITEMS or ITEMS[item_id]["owner"] != me:
        raise HTTPException(404, "no such item")
    del ITEMS[item_id]


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
'''

OWN_LOGIN_PROFILE = """
name: own-login
environment: local
launcher: process
backend:
  command: ["{{python}}", "{app}", "{{port}}"]
  ready_path: /health
checks:
  exclude: ["DELETE /users/me"]
identity:
  provider: backend_api
  users: 2
  backend:
    registration: POST /auth/register
    registration_body: {{email: "{{email}}", password: "{{password}}", full_name: "{{given_name}} {{family_name}}"}}
    login: POST /auth/token
    login_body: {{username: "{{email}}", password: "{{password}}"}}
    token_json: access_token
    delete_account: DELETE /users/me
{extra}"""


def own_login_profile(tmp_path: Path, extra: str = "") -> Path:
    app = tmp_path / "own_login_app.py"
    app.write_text(OWN_LOGIN_APP)
    profile = tmp_path / "own-login.yaml"
    profile.write_text(OWN_LOGIN_PROFILE.format(app=app, extra=extra))
    return profile


def test_backend_with_its_own_form_login_needs_no_keycloak(tmp_path: Path) -> None:
    """The README's backend_api example against an OAuth2 password-flow login, no keycloak section: the run boots
    no Keycloak, finds the planted cross-user read, names the backend as the token issuer and removes its users."""
    result = run_cli("run", "--profile", str(own_login_profile(tmp_path)), "-n", "2", "--", "-k",
                     "unauthenticated or invalid_token or cross_user", out=tmp_path / "out")
    assert result.exit_code == 1, result.console[-3000:]
    run = result.findings["run"]
    assert run["target"]["token_issuer"] == "the backend itself (POST /auth/token)"
    assert run["target"]["keycloak_url"] == ""  # the process launcher started no Keycloak
    assert run["target"]["keycloak_version"] == "unknown"
    assert run["run_tag"].startswith("digasec-")
    assert run["cleanup_problems"] == []
    outcomes = {(r["check"], r["outcome"]) for r in result.results}
    assert ("cross_user_read", "fail") in outcomes
    assert not [r for r in result.results if r["outcome"] == "error"], result.console[-3000:]


def test_a_login_sent_in_the_wrong_encoding_is_explained(tmp_path: Path) -> None:
    result = run_cli("run", "--profile", str(own_login_profile(tmp_path, "    login_content_type: json\n")),
                     out=tmp_path / "out")
    assert result.exit_code == 3, result.console[-3000:]
    assert "the operation declares application/x-www-form-urlencoded; the body was sent as JSON" in result.console
    assert "NOT removed" in result.console
    assert "-user1" in result.console
