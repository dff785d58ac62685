"""The German report translates the harness's English messages, reasons and notes (reports/messages.yaml); every
text a suite or the engine produces has a catalogue entry; backend text and unknown messages pass through as they
are; English reports and findings.json stay English."""

from __future__ import annotations

import html
import inspect
import json
import re
import sys
from pathlib import Path

import pytest

from reports import Evidence, Outcome, ResultRecord, Severity, _messages, write_findings, write_html
from reports._evidence import reproduction
from reports._messages import catalogue, to_german, untranslated
from tests.unit.message_sites import HOLE, sites

SAMPLE = "200"  # fits every placeholder shape (a word, a number, a status code)
# Templates whose holes hold text of a known shape that a sample cannot stand in for: checked with real examples.
EXAMPLES = {
    "HTTP \x00\x00": ['HTTP 400: "name is required"', "HTTP 404"],
    "the ids of `{\x00}` are \x00 \x00": ["the ids of `{username}` are usernames the harness chose itself"],
    ", canary": ["looked for every test user's password (and its MD5/SHA-1/SHA-256 hex digests), credential, e-mail "
                 "address, username, phone, names, id, canary in the answer, except what the request itself sent"],
    # fixtures/analysis/forged_tokens.py: with and without a later refusal
    "accepted \x00 past exp\x00: more than Spring Security's default 60 s clock skew, within the 5 min .NET allows by "
    "default; graded medium, not high. Reduce the allowed clock skew to 60 s or less": [
        f"accepted 70 s past exp{refused}: more than Spring Security's default 60 s clock skew, within the 5 min .NET "
        "allows by default; graded medium, not high. Reduce the allowed clock skew to 60 s or less"
        for refused in ("", ", refused 2 min past exp")],
    "accepted \x00 past exp\x00: within the 60 s clock skew Spring Security allows by default, so graded low, not "
    "high. Reduce the allowed clock skew if tokens must end sooner": [
        f"accepted 10 s past exp{refused}: within the 60 s clock skew Spring Security allows by default, so graded "
        "low, not high. Reduce the allowed clock skew if tokens must end sooner"
        for refused in ("", ", refused 40 s past exp")],
    ", refused \x00 past exp": [
        "accepted 10 s past exp, refused 40 s past exp: within the 60 s clock skew Spring Security allows by default, "
        "so graded low, not high. Reduce the allowed clock skew if tokens must end sooner"],
    # fixtures/analysis/timing.py: the verdicts around their statistics
    "no measurable timing difference: \x00; \x00": [
        "no measurable timing difference: median 0.0018 s (existing account, n=30, IQR 0.0005 s) vs 0.0019 s (unknown "
        "account, n=30, IQR 0.0003 s), difference -0.1 ms, Cliff's delta +0.05, Mann-Whitney p=0.75; p=0.75 is not "
        "below alpha 0.01; |delta| 0.05 is below the minimum effect 0.5"],
    "\x00 answers measurably slower: \x00": [
        "existing account answers measurably slower: median 0.0764 s (existing account, n=30, IQR 0.0202 s) vs 0.0022 "
        "s (unknown account, n=30, IQR 0.0006 s), difference +74.2 ms, Cliff's delta +1.00, Mann-Whitney p=3e-11"],
    "\x00; the shift's confidence interval \x00 to \x00 ms lies within ±\x00 ms": [
        "no measurable timing difference: median 0.2031 s (existing account, n=10, IQR 0.0012 s) vs 0.2029 s (unknown "
        "account, n=10, IQR 0.0011 s), difference +0.2 ms, Cliff's delta +0.10, Mann-Whitney p=0.7; p=0.7 is not "
        "below alpha 0.00125; |delta| 0.10 is below the minimum effect 0.5; 0.2 ms is below the minimum difference "
        "20 ms; the shift's confidence interval -1.3 to +1.6 ms lies within ±20 ms"],
    # fixtures/analysis/idanalysis.py: parts that exist only inside one frame
    "; \x00 of their \x00 random hex digits are the same in every id": [
        "ids are version-7 (time-based) UUIDs: the first 48 bits are the creation time in milliseconds "
        "(2026-12-02T04:18:14Z); 3 of their 18 random hex digits are the same in every id, which leaves about 62 "
        "unpredictable bits, below the 64 bits needed against guessing"],
    "ids look like MongoDB ObjectIds: the first 4 bytes are the creation time in seconds (\x00)\x00\x00; such ids "
    "are predictable": [
        f"ids look like MongoDB ObjectIds: the first 4 bytes are the creation time in seconds (2026-12-02T04:18:14Z)"
        f"{process}{counter}; such ids are predictable"
        for process in ("", ", the middle 5 bytes are the same for every id")
        for counter in ("", " and the last 3 bytes count up")],
    " and the last 3 bytes count up": [
        "ids look like MongoDB ObjectIds: the first 4 bytes are the creation time in seconds (2026-12-02T04:18:14Z) "
        "and the last 3 bytes count up; such ids are predictable"],
    ", the middle 5 bytes are the same for every id": [
        "ids look like MongoDB ObjectIds: the first 4 bytes are the creation time in seconds (2026-12-02T04:18:14Z), "
        "the middle 5 bytes are the same for every id; such ids are predictable"],
    "looked for \x00 password (and its MD5/SHA-1/SHA-256 hex digests), credential, e-mail address, username, phone, "
    "names, id\x00 in the answer, except what the request itself sent": [
        "looked for every other test user's (not user2's) password (and its MD5/SHA-1/SHA-256 hex digests), "
        "credential, e-mail address, username, phone, names, id in the answer, except what the request itself sent"],
    " (the body's fields: \x00)": [
        "`POST /shelves/` succeeded but no id for `{slug}` was found in its Location header or response body: add a "
        'recipe with `id_field` for `/shelves/{slug}`: recipes: {"/shelves/{slug}": {create: "POST /shelves/", '
        'id_field: "<the response field with the id>"}}; or, where the key is a value the client sends, key: '
        '"body.<field>" (the body\'s fields: slug, title)'],
    "baseline failed: \x00 \x00 through `\x00` got \x00\x00 (\x00); \x00": [
        "baseline failed: user1 looking up itself through `GET /users/{username}` got 403 ('forbidden'); without a "
        "lookup that works, the same refusal for every other name proves nothing",
        "baseline failed: user1 setting its own, unchanged e-mail/username through `PATCH /me` got 200, saying "
        "`\"status\": \"fail\"` ('{\"status\": \"fail\"}'); a refusal of another account's address would prove "
        "nothing"],
    "`\x00` succeeded but its response body has no field `\x00` (\x00): name the field that holds the new id in a "
    "recipe for `\x00` (id_field)": [
        "`POST /notes` succeeded but its response body has no field `data.id` (the recipe's id_field): name the field "
        "that holds the new id in a recipe for `/notes/{id}` (id_field)"],
}


KNOWN = "the credential is not a JWT: forged-JWT variants do not apply"  # a message the catalogue knows


def filled(template: str) -> list[str]:
    """Texts the template produces: its examples, or its holes filled with the sample; a continuation (a part that
    starts with "; ", ", ", " (", ". " and is appended to another text) after a known message."""
    if template in EXAMPLES:
        return EXAMPLES[template]
    text = template.replace(HOLE, SAMPLE)
    if template[:1] in " ,;:(.":
        # after a value ("200, saying …") or, an appendix, after a known message ("…. Keycloak: …")
        return [SAMPLE + text] if not english_left(SAMPLE + text) else [KNOWN + text]
    return [text]


def english_left(text: str) -> list[str]:
    """The parts of `text` the catalogue leaves English, not counting the sample values themselves."""
    return [part for part in untranslated(text) if part.replace(SAMPLE, "").strip(" ;:,.()`'\"")]


def test_the_collector_finds_messages_of_every_producer() -> None:
    found = {site.template for site in sites()}
    assert len(found) >= 150
    assert "\x00 found nothing to test" in found  # pytest.mark.skip(reason=f"...")
    assert "the credential is not a JWT: forged-JWT variants do not apply" in found  # a constant, not_applicable
    assert "every wrong password is followed by a correct login, so that no lockout follows" in {
        template.removeprefix("; ") for template in found}  # ctx.note +=
    assert any(template.startswith("Expected 401, got") for template in found)  # a helper's return, raised as Failure


def test_every_message_the_harness_produces_has_a_german_template() -> None:
    missing = sorted({str(site) for site in sites() for text in filled(site.template) if english_left(text)})
    assert not missing, (
        f"{len(missing)} texts have no German template: add an entry (`en:` with {{name}} for each {{}}, `de:`) to "
        "reports/messages.yaml (or an example to EXAMPLES here when a hole needs a real value):\n"
        + "\n".join(missing))


def test_every_template_compiles_and_matches_its_own_text() -> None:
    for template in catalogue():
        sample = re.sub(r"\{([a-z_0-9]+)!?\}", lambda match: "GET" if match[1] == "method" else SAMPLE,
                        template.english)
        required = any(mark for mark in re.findall(r"\{[a-z_0-9]+(!?)\}", template.english))
        assert required or template.pattern.fullmatch(sample), template.english


@pytest.mark.parametrize(("english", "german"), [
    ("baseline failed: user1's own valid request POST /v1/auth/register answered 409; an attack counts only where "
     "the baseline succeeds",
     "Basisanfrage fehlgeschlagen: Die eigene gültige Anfrage POST /v1/auth/register von user1 wurde mit 409 "
     "beantwortet; ein Angriff zählt nur, wo die Basisanfrage gelingt"),
    ("Expected 401, got `200 OK` for `GET /v1/notes/{id}` with the owner's claims with header alg: none and no "
     "signature (the owner's valid request answered 200)",
     "Erwartet wurde 401, erhalten `200 OK` für `GET /v1/notes/{id}` mit den Claims des Eigentümers mit Header "
     "alg: none und ohne Signatur (die gültige Anfrage des Eigentümers wurde mit 200 beantwortet)"),
    ("`GET /v1/reminders/1` without credentials answered 200 with user1's object content (its canary) at $.title "
     "(cnry7fc86089f053)",
     "`GET /v1/reminders/1` ohne Zugangsdaten wurde mit 200 beantwortet, mit Objektinhalt (sein Canary) von user1 "
     "an $.title (cnry7fc86089f053)"),
    ("the credential is not a JWT: forged-JWT variants do not apply",
     "Der Zugangsnachweis ist kein JWT: Die Varianten mit gefälschtem JWT sind nicht anwendbar"),
    ("fixtures.engine.checks.NotApplicable: the credential is not a JWT: forged-JWT variants do not apply",
     "fixtures.engine.checks.NotApplicable: Der Zugangsnachweis ist kein JWT: Die Varianten mit gefälschtem JWT "
     "sind nicht anwendbar"),
    ("treated as a login flow: named in the profile (account_flows.login); every wrong password is followed by a "
     "correct login, so that no lockout follows",
     "als Kontofunktion „Anmeldung“ behandelt: im Profil benannt (account_flows.login); auf jedes falsche Passwort "
     "folgt eine korrekte Anmeldung, damit keine Sperre eintritt"),
])
def test_real_messages_read_as_proper_german(english: str, german: str) -> None:
    assert to_german(english) == german


def test_backend_text_passes_through_untouched() -> None:
    refusal = '`"status": "fail"` (message: \'username taken\')'
    english = (f"baseline failed: the owner's own request was refused in the body: {refusal} (user1's POST /register "
               "answered 200); an attack counts only where the baseline succeeds")
    german = to_german(english)
    assert german.startswith(f"Basisanfrage fehlgeschlagen: Die eigene Anfrage des Eigentümers wurde im Antworttext "
                             f"abgelehnt: {refusal} (POST /register von user1 wurde mit 200 beantwortet)")
    excerpt = 'the account already exists by e-mail; {"error": "taken"}'
    assert excerpt in to_german(f"no response to POST /accounts: {excerpt}")


def test_an_unknown_message_stays_english_and_a_known_frame_keeps_unknown_values() -> None:
    unknown = "a message of a newer check: nothing known about it; not even this part"
    assert to_german(unknown) == unknown
    assert to_german("") == ""
    # a frame whose required fragment is unknown does not match: no German frame around an English phrase
    assert to_german("Expected 401, got `200 OK` for `GET /x` with a brand-new kind of token (the owner's valid "
                     "request answered 200)").startswith("Erwartet wurde 401, erhalten `200 OK` für `GET /x` with a")


def test_a_template_of_placeholders_only_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A template without literal text would hand its whole text on as a value, and translate it for ever."""
    catalogue_file = tmp_path / "messages.yaml"
    catalogue_file.write_text("messages:\n  - en: '{what}: {why}'\n    de: '{what}: {why}'\n"
                              "  - en: '{what}'\n    de: '{what}'\n")
    monkeypatch.setattr(_messages, "MESSAGES_PATH", catalogue_file)
    catalogue.cache_clear()
    try:
        with pytest.raises(ValueError, match="literal text"):
            catalogue()
    finally:
        catalogue.cache_clear()


def test_a_text_nested_deeper_than_the_stack_stays_as_written() -> None:
    nested = ("no measurable timing difference: median 0.2031 s (existing account, n=10, IQR 0.0012 s) vs 0.2029 s "
              "(unknown account, n=10, IQR 0.0011 s), difference +0.2 ms, Cliff's delta +0.10, Mann-Whitney p=0.7; "
              "p=0.7 is not below alpha 0.00125; |delta| 0.10 is below the minimum effect 0.5")
    _clear_translations()
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 20)
    try:
        shallow = to_german(nested)
    finally:
        sys.setrecursionlimit(limit)
        _clear_translations()
    assert shallow == nested
    assert to_german(nested) != nested  # with the whole stack: German


def _clear_translations() -> None:
    for cached in (to_german, _messages._scored, _messages._known, _messages._listed):
        cached.cache_clear()


def test_reproduction_comments_are_german_in_a_german_report_and_the_commands_the_same() -> None:
    evidence = [
        Evidence(request="GET /notes/1 HTTP/1.1\nauthorization: Bearer <redacted:token:user1>", response="",
                 role="baseline", actor="user1"),
        Evidence(request="GET /notes/1 HTTP/1.1\nauthorization: Bearer <redacted:token:user2>", response="",
                 role="attack", actor="user2"),
    ]
    english, german = reproduction(evidence, "http://127.0.0.1:1"), reproduction(evidence, "http://127.0.0.1:1",
                                                                                  lang="de")
    assert english is not None
    assert german is not None
    assert "# 2. der Angriff: Benutzer B (user2) mit $TOKEN_B" in german
    assert "# $TOKEN_A: ein Zugriffstoken von Benutzer A (user1)" in german
    assert "the attack" in english
    assert "der Angriff" not in english

    def commands(text: str) -> list[str]:
        return [line for line in text.splitlines() if not line.startswith("#")]

    assert commands(english) == commands(german)


def test_german_records_translate_message_reason_and_group_reasons(tmp_path: Path) -> None:
    skip = "the credential is not a JWT: forged-JWT variants do not apply"
    records = [
        ResultRecord(check="forged_token", outcome=Outcome.SKIP, method="GET", path="/x", variant=variant,
                     reason=skip, applies=False) for variant in ("alg_none", "garbage")
    ] + [ResultRecord(check="unauthenticated_access", outcome=Outcome.FAIL, method="GET", path="/x",
                      severity=Severity.HIGH, title="Operation answers without credentials",
                      message="Expected 401, got `200 OK` for `GET /x` without any credentials (the owner's valid "
                              "request answered 200)")]
    write_findings(tmp_path, {"id": "r"}, records)
    german = html.unescape(write_html(tmp_path, {"id": "r"}, records, lang="de").read_text())
    assert "Grund: Der Zugangsnachweis ist kein JWT" in german
    assert "Erwartet wurde 401, erhalten `200 OK` für `GET /x` ohne jegliche Zugangsdaten" in german
    english = html.unescape(write_html(tmp_path, {"id": "r"}, records, lang="en").read_text())
    assert skip in english
    assert "Expected 401, got" in english


REAL_RECORDS = Path(__file__).parent / "data" / "german_report_records.json"


def english_frames() -> list[str]:
    """The English literal text of every catalogue template that a German report must not show: its pieces between
    placeholders with at least two words, not also part of its German form (". Keycloak: ", "HTTP ")."""
    frames = set()
    for template in catalogue():
        literals, _ = template.pieces
        for piece in literals:
            words = re.findall(r"[A-Za-z]{2,}", piece)
            if len(words) >= 2 and piece.strip() not in template.german:
                frames.add(piece.strip(" ;:,.()"))
    return sorted(frames, key=len, reverse=True)


def test_a_german_report_of_real_results_shows_no_english_frame_and_the_english_report_keeps_them(
    tmp_path: Path,
) -> None:
    raw = json.loads(REAL_RECORDS.read_text(encoding="utf-8"))["results"]
    records = [ResultRecord.from_dict(result) for result in raw]
    texts = [text for record in records for text in (record.message, record.reason, record.note) if text]
    assert len(texts) >= 40
    german = html.unescape(write_html(tmp_path / "de", {"id": "r"}, records, lang="de").read_text(encoding="utf-8"))
    left = sorted({frame for frame in english_frames() if frame in german})
    assert not left, f"English catalogue text in the German report: {left}"
    assert "Hinweise zu bestandenen Prüfpunkten" in german  # passed items' notes are shown
    assert "kein messbarer Zeitunterschied: Median" in german  # a timing verdict, translated inside its note
    english = html.unescape(write_html(tmp_path / "en", {"id": "r"}, records, lang="en").read_text(encoding="utf-8"))
    missing = [text for text in texts if text not in english]
    assert not missing, f"texts the English report does not show as findings.json holds them: {missing[:3]}"
