"""The report's scope section: who issued the test users' tokens, and the Keycloak rows only with a Keycloak."""

from __future__ import annotations

import html as html_module
import re
from pathlib import Path
from typing import Any

import pytest

from reports import Outcome, ResultRecord, write_html
from reports._html import load_strings

KEYCLOAK_TARGET = {
    "base_url": "http://127.0.0.1:8000",
    "keycloak_url": "http://127.0.0.1:8080",
    "realm": "diga-demo",
    "keycloak_version": "26.7.3",
    "backend_version": "1.3.0",
}
# A backend with its own login, as harness.run_record writes it: no Keycloak, its fields empty.
BACKEND_TARGET = {
    "base_url": "http://127.0.0.1:8000",
    "keycloak_url": "",
    "realm": "",
    "keycloak_version": "",
    "backend_version": "0.4.0",
}
RESULTS = [ResultRecord(check="unauthenticated_access", method="GET", path="/v1/x", outcome=Outcome.PASS)]


def scope_rows(tmp_path: Path, target: dict[str, Any], *, lang: str = "en", **run: Any) -> dict[str, str]:
    """The scope table of the rendered report as {label: text}."""
    page = write_html(tmp_path, {"id": "run-1", "target": target, **run}, RESULTS, lang=lang).read_text("utf-8")
    section = page[page.index('<section id="scope">') : page.index("</section>", page.index('<section id="scope">'))]
    rows = re.findall(r'<th scope="row">(.*?)</th><td[^>]*>(.*?)</td>', section)
    return {html_module.unescape(label): html_module.unescape(re.sub(r"<[^>]+>", "", value)) for label, value in rows}


def labels(lang: str) -> dict[str, str]:
    fields: dict[str, str] = load_strings()[lang]["scope_fields"]
    return fields


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "Keycloak realm “diga-demo” at http://127.0.0.1:8080"),
        ("de", "Keycloak-Realm „diga-demo“ unter http://127.0.0.1:8080"),
    ],
)
def test_keycloak_run_names_the_realm_as_token_issuer(tmp_path: Path, lang: str, expected: str) -> None:
    rows = scope_rows(tmp_path, KEYCLOAK_TARGET, lang=lang)
    field = labels(lang)
    assert rows[field["token_issuer"]] == expected
    assert rows[field["keycloak_url"]] == "http://127.0.0.1:8080"
    assert rows[field["realm"]] == "diga-demo"
    assert rows[field["keycloak_version"]] == "26.7.3"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "the backend itself (its own login)"), ("de", "das Backend selbst (eigene Anmeldung)")],
)
def test_run_without_keycloak_names_the_backend_and_has_no_keycloak_rows(
    tmp_path: Path, lang: str, expected: str
) -> None:
    rows = scope_rows(tmp_path, BACKEND_TARGET, lang=lang)
    field = labels(lang)
    assert rows[field["token_issuer"]] == expected
    for key in ("keycloak_url", "realm", "keycloak_version"):
        assert field[key] not in rows, key
    assert rows[field["backend_version"]] == "0.4.0"


@pytest.mark.parametrize(
    ("lang", "backend", "tokens", "keycloak"),
    [
        ("en", "the backend itself (POST /v1/auth/login)", "pre-issued tokens",
         "Keycloak realm “diga-demo” at http://127.0.0.1:8080"),
        ("de", "das Backend selbst (POST /v1/auth/login)", "vorab ausgestellte Tokens",
         "Keycloak-Realm „diga-demo“ unter http://127.0.0.1:8080"),
    ],
)
def test_the_run_records_token_issuer_is_shown_in_the_reports_language(
    tmp_path: Path, lang: str, backend: str, tokens: str, keycloak: str
) -> None:
    field = labels(lang)
    target = {**BACKEND_TARGET, "token_issuer": "the backend itself (POST /v1/auth/login)"}
    rows = scope_rows(tmp_path / "backend", target, lang=lang)
    assert rows[field["token_issuer"]] == backend
    assert field["keycloak_version"] not in rows
    target = {**BACKEND_TARGET, "token_issuer": "pre-issued tokens"}
    assert scope_rows(tmp_path / "tokens", target, lang=lang)[field["token_issuer"]] == tokens
    target = {**KEYCLOAK_TARGET, "token_issuer": "Keycloak realm diga-demo at http://127.0.0.1:8080"}
    rows = scope_rows(tmp_path / "keycloak", target, lang=lang)
    assert rows[field["token_issuer"]] == keycloak
    assert rows[field["keycloak_version"]] == "26.7.3"


def test_an_unknown_token_issuer_is_shown_as_written(tmp_path: Path) -> None:
    target = {**BACKEND_TARGET, "token_issuer": "a gateway of its own"}
    assert scope_rows(tmp_path, target)[labels("en")["token_issuer"]] == "a gateway of its own"


def test_a_run_record_without_target_says_not_recorded(tmp_path: Path) -> None:
    rows = scope_rows(tmp_path, {})
    assert rows[labels("en")["token_issuer"]] == load_strings()["en"]["not_recorded"]
    assert labels("en")["keycloak_version"] not in rows


def test_the_run_tag_is_shown(tmp_path: Path) -> None:
    rows = scope_rows(tmp_path, KEYCLOAK_TARGET, run_tag="digasec-3f9a")
    assert rows[labels("en")["run_tag"]] == "digasec-3f9a"
