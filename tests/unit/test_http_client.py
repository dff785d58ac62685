"""The target client: retries transport errors only, never turns them into a response, keeps no cookies."""

from __future__ import annotations

import httpx

from fixtures.engine.http import Request, TargetClient, credential_headers
from fixtures.engine.redaction import Redactor


def client_with(handler, *, retries: int = 2) -> TargetClient:
    return TargetClient("http://127.0.0.1:9", timeout_s=1.0, redactor=Redactor(), retries=retries,
                        transport=httpx.MockTransport(handler))


def flaky(failures: int, error: type[Exception], calls: list[str]):
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) <= failures:
            raise error("boom", request=request)
        return httpx.Response(200, json={"ok": True})

    return handler


def test_connect_errors_are_retried_then_answered():
    calls: list[str] = []
    response, exchange = client_with(flaky(2, httpx.ConnectError, calls)).send(Request("POST", "/x", json={}))
    assert response is not None
    assert response.status_code == 200
    assert exchange.error is None
    assert len(calls) == 3


def test_persistent_transport_errors_stay_errors():
    calls: list[str] = []
    response, exchange = client_with(flaky(99, httpx.ConnectError, calls)).send(Request("GET", "/x"))
    assert response is None
    assert exchange.status is None
    assert "after 3 attempts" in (exchange.error or "")
    assert len(calls) == 3


def test_a_timed_out_post_is_not_repeated():
    calls: list[str] = []
    response, exchange = client_with(flaky(1, httpx.ReadTimeout, calls)).send(Request("POST", "/x", json={}))
    assert response is None
    assert "ReadTimeout" in (exchange.error or "")
    assert calls == ["POST"]


def test_a_timed_out_get_is_repeated():
    calls: list[str] = []
    response, _ = client_with(flaky(1, httpx.ReadTimeout, calls)).send(Request("GET", "/x"))
    assert response is not None
    assert calls == ["GET", "GET"]


def test_status_codes_are_never_retried():
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return httpx.Response(503)

    response, _ = client_with(handler).send(Request("GET", "/x"))
    assert response is not None
    assert response.status_code == 503
    assert calls == ["GET"]


def test_cookies_set_by_the_target_are_not_sent_again():
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        return httpx.Response(200, headers={"set-cookie": "SESSION=abc; Path=/"})

    client = client_with(handler)
    client.send(Request("GET", "/login"))
    client.send(Request("GET", "/me"))
    assert seen == [None, None]


def test_evidence_is_redacted():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"echo": request.headers["authorization"]})

    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    _response, exchange = client_with(handler).send(Request("GET", "/x"), bearer=token)
    assert token not in exchange.request
    assert token not in exchange.response


def test_credential_styles():
    assert credential_headers("t", "bearer") == {"Authorization": "Bearer t"}
    assert credential_headers("t", "header:X-Api-Token") == {"X-Api-Token": "t"}
    assert credential_headers("t", "cookie:sid") == {"Cookie": "sid=t"}


def test_body_arguments_follow_the_declared_media_type() -> None:
    from fixtures.engine.http import body_arguments

    assert body_arguments(None, {"a": 1}) == {"json": {"a": 1}}
    assert body_arguments("application/json", [1]) == {"json": [1]}
    assert body_arguments("application/x-www-form-urlencoded", {"username": "u", "remember": True, "n": None}) == {
        "data": {"username": "u", "remember": "true"}
    }
    assert body_arguments("multipart/form-data", {"f": 2}) == {"files": {"f": (None, "2")}}
    assert body_arguments("application/json", None) == {}


def test_a_form_encoded_request_is_sent_as_a_form() -> None:
    import httpx

    from fixtures.engine.http import Request, TargetClient
    from fixtures.engine.redaction import Redactor

    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    client = TargetClient("http://127.0.0.1:1", timeout_s=1, redactor=Redactor(), transport=httpx.MockTransport(answer))
    client.send(Request("POST", "/token", json={"username": "a@b.c", "password": "x"},
                        media_type="application/x-www-form-urlencoded"))
    assert seen[0].headers["content-type"] == "application/x-www-form-urlencoded"
    assert seen[0].content == b"username=a%40b.c&password=x"
