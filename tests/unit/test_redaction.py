from __future__ import annotations

import base64
import logging
import sys
import threading
import urllib.parse

import pytest

from fixtures.engine.redaction import (
    MIN_SECRET_LENGTH,
    RedactingLogFilter,
    Redactor,
    encoded_forms,
    is_secret_name,
    redact_authorization,
    redact_cookie_pairs,
)

PASSWORD = "Tr0ub4dor&3 x"
JWT = (
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0"
    ".dGhpcy1pcy1ub3QtYS1yZWFsLXNpZ25hdHVyZQ"
)


@pytest.fixture
def redactor() -> Redactor:
    redactor = Redactor()
    redactor.add_secret(PASSWORD, "password:alice")
    return redactor


def test_registered_secret_is_replaced_by_its_label(redactor: Redactor) -> None:
    assert redactor.redact(f"login with {PASSWORD} failed") == "login with <redacted:password:alice> failed"


@pytest.mark.parametrize(
    "form",
    [
        urllib.parse.quote(PASSWORD, safe=""),
        urllib.parse.quote_plus(PASSWORD),
        base64.b64encode(PASSWORD.encode()).decode(),
        base64.urlsafe_b64encode(PASSWORD.encode()).decode().rstrip("="),
    ],
)
def test_encoded_forms_of_a_secret_are_replaced(redactor: Redactor, form: str) -> None:
    assert redactor.redact(f"x {form} y") == "x <redacted:password:alice> y"


def test_json_escaped_secret_is_replaced() -> None:
    redactor = Redactor()
    redactor.add_secret('quo"te\\pass', "password:bob")
    assert redactor.redact('{"note": "quo\\"te\\\\pass"}') == '{"note": "<redacted:password:bob>"}'


def test_short_values_are_not_registered() -> None:
    redactor = Redactor()
    redactor.add_secret("a" * (MIN_SECRET_LENGTH - 1), "pin")
    assert redactor.secret_count == 0
    assert redactor.redact("aaaaa and aaaaa") == "aaaaa and aaaaa"


def test_value_of_minimum_length_is_registered() -> None:
    redactor = Redactor()
    redactor.add_secret("s3cr3t", "pw")
    assert redactor.redact("pw=s3cr3t!") == "pw=<redacted:pw>!"


def test_longest_secret_wins_when_one_contains_another() -> None:
    redactor = Redactor()
    redactor.add_secret("abcdef", "short")
    redactor.add_secret("abcdefghij", "long")
    assert redactor.redact("abcdefghij abcdef") == "<redacted:long> <redacted:short>"


def test_later_registration_replaces_the_label() -> None:
    redactor = Redactor()
    redactor.add_secret("same-value", "first")
    redactor.add_secret("same-value", "second")
    assert redactor.redact("same-value") == "<redacted:second>"


def test_label_characters_outside_the_marker_alphabet_are_replaced() -> None:
    redactor = Redactor()
    redactor.add_secret("value-123456", "token user<b>")
    assert redactor.redact("value-123456") == "<redacted:token_user_b_>"


def test_encoded_forms_include_url_and_base64_spellings() -> None:
    forms = encoded_forms("pa ss/word")
    assert {"pa ss/word", "pa%20ss%2Fword", "pa+ss%2Fword", "cGEgc3Mvd29yZA==", "cGEgc3Mvd29yZA"} <= forms


def test_unregistered_jwt_is_redacted(redactor: Redactor) -> None:
    assert redactor.redact(f"token {JWT} end") == "token <redacted:jwt> end"


def test_unsigned_jwt_with_trailing_dot_is_redacted() -> None:
    unsigned = JWT.rsplit(".", 1)[0] + "."
    assert Redactor().redact(f"[{unsigned}]") == "[<redacted:jwt>]"


def test_registered_token_keeps_its_label_over_the_jwt_pattern() -> None:
    redactor = Redactor()
    redactor.add_secret(JWT, "token:user_b")
    assert redactor.redact(f"authorization: Bearer {JWT}") == "authorization: Bearer <redacted:token:user_b>"


def test_plain_words_starting_with_eyj_are_kept() -> None:
    text = "eyJust.a.sentence and eyJ. nothing"
    assert Redactor().redact(text) == text


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Authorization: Bearer abc.def-ghi", "Authorization: Bearer <redacted:token>"),
        ("authorization: Basic dXNlcjpwYXNz", "authorization: Basic <redacted:credentials>"),
        ("Proxy-Authorization: Basic dXNlcjpwYXNz", "Proxy-Authorization: Basic <redacted:credentials>"),
        ("Authorization: opaque", "Authorization: <redacted:credentials>"),
    ],
)
def test_authorization_header_lines_keep_the_scheme(line: str, expected: str) -> None:
    assert Redactor().redact(f"GET / HTTP/1.1\n{line}\nAccept: */*") == f"GET / HTTP/1.1\n{expected}\nAccept: */*"


def test_www_authenticate_parameters_are_not_mistaken_for_credentials() -> None:
    line = 'WWW-Authenticate: Bearer realm="digasec", error="invalid_token", error_description="expired"'
    assert Redactor().redact(line) == line


def test_bearer_credentials_anywhere_in_text_are_redacted() -> None:
    assert Redactor().redact("sent Bearer opaque-value-123 to server") == "sent Bearer <redacted:token> to server"


def test_cookie_header_keeps_names_and_redacts_values() -> None:
    text = "Cookie: KEYCLOAK_SESSION=abc123; AUTH_SESSION_ID=def456"
    assert Redactor().redact(text) == "Cookie: KEYCLOAK_SESSION=<redacted>; AUTH_SESSION_ID=<redacted>"


def test_set_cookie_keeps_name_and_attributes() -> None:
    text = "Set-Cookie: KEYCLOAK_SESSION=abc123; Path=/; HttpOnly"
    assert Redactor().redact(text) == "Set-Cookie: KEYCLOAK_SESSION=<redacted>; Path=/; HttpOnly"


def test_joined_set_cookie_values_with_expires_are_split_correctly() -> None:
    value = "A=1111; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Path=/, B=2222; Max-Age=60"
    assert redact_cookie_pairs(value, keep_attributes=True) == (
        "A=<redacted>; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Path=/, B=<redacted>; Max-Age=60"
    )


def test_emptied_cookie_stays_visible() -> None:
    assert redact_cookie_pairs("KC_RESTART=; Max-Age=0", keep_attributes=True) == "KC_RESTART=; Max-Age=0"


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "Password",
        "passwd",
        "client_secret",
        "access_token",
        "refresh_token",
        "id_token",
        "token",
        "credential",
        "api_key",
        "apiKey",
        "X-Api-Key",
        "new_password",
        "secret",
    ],
)
def test_secret_field_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "username",
        "token_type",
        "token_endpoint",
        "passwordPolicy",
        "accessTokenLifespan",
        "expires_in",
        "id_token_signing_alg_values_supported",
        "refreshTokenMaxReuse",
        "email",
    ],
)
def test_names_describing_secrets_are_not_secret(name: str) -> None:
    assert not is_secret_name(name)


def test_json_fields_with_secret_names_are_redacted() -> None:
    body = '{"access_token": "opaque1234", "token_type": "Bearer", "Password": "hunter2", "user": "alice"}'
    assert Redactor().redact(body) == (
        '{"access_token": "<redacted:access_token>", "token_type": "Bearer", '
        '"Password": "<redacted:password>", "user": "alice"}'
    )


def test_json_field_value_with_escaped_quote_is_redacted_entirely() -> None:
    assert Redactor().redact('{"password":"a\\"b c","x":1}') == '{"password":"<redacted:password>","x":1}'


def test_python_repr_with_single_quotes_is_redacted() -> None:
    assert Redactor().redact("{'client_secret': 'abcdef'}") == "{'client_secret': '<redacted:client_secret>'}"


def test_empty_secret_field_stays_empty() -> None:
    assert Redactor().redact('{"password": ""}') == '{"password": ""}'


def test_form_fields_with_secret_names_are_redacted() -> None:
    form = "grant_type=password&username=alice&password=p%40ss&client_secret=xyz&scope=openid"
    assert Redactor().redact(form) == (
        "grant_type=password&username=alice&password=<redacted:password>"
        "&client_secret=<redacted:client_secret>&scope=openid"
    )


def test_query_string_token_is_redacted() -> None:
    assert Redactor().redact("GET /cb?access_token=abc&x=1") == "GET /cb?access_token=<redacted:access_token>&x=1"


def test_redaction_is_idempotent(redactor: Redactor) -> None:
    text = f"Authorization: Bearer {JWT}\nCookie: A=b\n\npassword={PASSWORD}&token={JWT}"
    once = redactor.redact(text)
    assert redactor.redact(once) == once
    assert PASSWORD not in once
    assert JWT not in once


def test_redact_headers_by_name(redactor: Redactor) -> None:
    headers = {
        "Authorization": "Bearer abc",
        "Set-Cookie": "S=1; Path=/",
        "Cookie": "S=1; T=2",
        "X-Api-Key": "k",
        "X-Note": f"pw {PASSWORD}",
        "Content-Type": "application/json",
    }
    assert redactor.redact_headers(headers) == {
        "Authorization": "Bearer <redacted:token>",
        "Set-Cookie": "S=<redacted>; Path=/",
        "Cookie": "S=<redacted>; T=<redacted>",
        "X-Api-Key": "<redacted:x-api-key>",
        "X-Note": "pw <redacted:password:alice>",
        "Content-Type": "application/json",
    }


def test_redact_mapping_walks_nested_data(redactor: Redactor) -> None:
    data = {
        "user": {"username": "alice", "credentials": [{"type": "password", "value": "plain-text-1"}]},
        "tokens": {"refresh_token": "r-123", "expires_in": 300},
        "list": [f"x {PASSWORD}", {"client_secret": "cs"}, 7],
        "refreshTokenMaxReuse": 0,
        "revokeRefreshToken": False,
        "api_key": None,
    }
    assert redactor.redact_mapping(data) == {
        "user": {"username": "alice", "credentials": "<redacted:credentials>"},
        "tokens": "<redacted:tokens>",
        "list": ["x <redacted:password:alice>", {"client_secret": "<redacted:client_secret>"}, 7],
        "refreshTokenMaxReuse": 0,
        "revokeRefreshToken": False,
        "api_key": None,
    }


def test_redact_mapping_does_not_modify_its_input() -> None:
    data = {"password": "secret-1", "nested": {"token": "t-123"}}
    Redactor().redact_mapping(data)
    assert data == {"password": "secret-1", "nested": {"token": "t-123"}}


def test_redact_authorization_without_credentials_hides_the_value() -> None:
    assert redact_authorization("sometoken") == "<redacted:credentials>"


def test_concurrent_readers_see_secrets_registered_in_order() -> None:
    redactor = Redactor()
    secrets = [f"secret-number-{index:04d}" for index in range(200)]
    text = " ".join(secrets)
    inconsistent: list[str] = []

    def read() -> None:
        for _ in range(50):
            words = redactor.redact(text).split(" ")
            redacted = [word.startswith("<redacted:") for word in words]
            # registration happens in list order, so a snapshot redacts a prefix of the list
            if redacted != sorted(redacted, reverse=True):
                inconsistent.append(" ".join(words))

    readers = [threading.Thread(target=read) for _ in range(4)]
    for reader in readers:
        reader.start()
    for index, secret in enumerate(secrets):
        redactor.add_secret(secret, f"s{index}")
    for reader in readers:
        reader.join()
    assert inconsistent == []
    assert redactor.redact(text) == " ".join(f"<redacted:s{index}>" for index in range(200))


def _record(msg: str, args: tuple[object, ...] | None = None) -> logging.LogRecord:
    return logging.LogRecord("digasec", logging.INFO, __file__, 1, msg, args, None)


def test_log_filter_redacts_message_and_arguments(redactor: Redactor) -> None:
    record = _record("user %s logged in with %s", ("alice", PASSWORD))
    assert RedactingLogFilter(redactor).filter(record) is True
    assert record.getMessage() == "user alice logged in with <redacted:password:alice>"


def test_log_filter_keeps_malformed_records(redactor: Redactor) -> None:
    record = _record("only %s %s", (PASSWORD,))
    RedactingLogFilter(redactor).filter(record)
    assert PASSWORD not in record.getMessage()
    assert "only %s %s" in record.getMessage()


def test_log_filter_redacts_exception_text(redactor: Redactor) -> None:
    try:
        raise RuntimeError(f"bad password {PASSWORD}")
    except RuntimeError:
        record = logging.LogRecord("digasec", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    RedactingLogFilter(redactor).filter(record)
    formatted = logging.Formatter().format(record)
    assert PASSWORD not in formatted
    assert "<redacted:password:alice>" in formatted


def test_log_filter_works_on_a_real_logger(redactor: Redactor, caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("digasec.test.redaction")
    log_filter = RedactingLogFilter(redactor)
    logger.addFilter(log_filter)
    try:
        with caplog.at_level(logging.INFO, logger="digasec.test.redaction"):
            logger.info("token %s", JWT)
    finally:
        logger.removeFilter(log_filter)
    assert caplog.messages == ["token <redacted:jwt>"]


def _naive_replace(text: str, secrets: dict[str, str]) -> str:
    """The reference: at each position the longest registered spelling that starts there, left to right."""
    by_length = sorted(secrets, key=lambda spelling: (-len(spelling), spelling))
    pieces, position, done = [], 0, 0
    while position < len(text):
        found = next((spelling for spelling in by_length if text.startswith(spelling, position)), None)
        if found is None:
            position += 1
            continue
        pieces += [text[done:position], f"<redacted:{secrets[found]}>"]
        position = done = position + len(found)
    pieces.append(text[done:])
    return "".join(pieces)


def test_many_secrets_registered_one_by_one_match_the_reference() -> None:
    # prefixes spread over several regex levels, and many spellings behind one shared prefix (forged tokens)
    redactor = Redactor()
    secrets: dict[str, str] = {}
    for index in range(120):
        for value, label in ((f"pw{index:03d}-{index * 7919 % 1000:03d}", f"p{index}"),
                             (f"shared-prefix-token-{index}{'x' * (index % 5)}", f"t{index}")):
            redactor.add_secret(value, label)
            secrets.update(dict.fromkeys(encoded_forms(value), label))
        if index % 9 == 0:
            text = " ".join([*secrets, "shared-prefix-token-unregistered", "pw999-", "plain"]) + " shared-prefix-tok"
            assert redactor._replace_secrets(text) == _naive_replace(text, secrets)
    assert redactor.secret_count == len(secrets)
    assert len(redactor._index.levels) <= 2  # a base and a tail: every text is scanned by two regexes at most


def test_overlapping_spellings_take_the_longest_at_the_leftmost_position() -> None:
    redactor = Redactor()
    for value, label in (("abcdefgh", "short"), ("abcdefghijkl", "long"), ("cdefghij", "inner")):
        redactor.add_secret(value, label)
    text = "xabcdefghijkly abcdefghZ abcdefg"
    assert redactor._replace_secrets(text) == "x<redacted:long>y <redacted:short>Z abcdefg"
