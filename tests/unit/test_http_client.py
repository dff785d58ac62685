"""The target client: retries transport errors only, never turns them into a response, keeps no cookies."""

from __future__ import annotations

import codecs
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from fixtures.engine.http import (
    CUT_AT,
    DeadlineExceeded,
    Request,
    TargetClient,
    byte_size,
    credential_headers,
    text_encoding,
)
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


# -- bounded requests, against a real local server (real sockets) --------------------------------------------------

_SERVER_LIMIT_S = 20.0  # no handler of the test server runs longer, whatever the client does
hits: dict[str, int] = {}


class _Faults(BaseHTTPRequestHandler):
    """/trickle: a body of 1000 bytes, one byte per 50 ms; /trickle-headers: the header section, one byte per
    50 ms, never ending; /endless: an endless fast body; /silent: no answer at all; /redirect?to=URL: a 302;
    /agent: the request's User-Agent; anything else: 200 'ok' (counted in `hits`)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        hits[path] = hits.get(path, 0) + 1
        started = time.monotonic()
        with contextlib.suppress(OSError):
            if path == "/trickle":
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                for _ in range(1000):
                    if time.monotonic() - started > _SERVER_LIMIT_S:
                        return
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.05)
            elif path == "/trickle-headers":
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                while time.monotonic() - started < _SERVER_LIMIT_S:
                    self.wfile.write(b"X")
                    self.wfile.flush()
                    time.sleep(0.05)
            elif path == "/endless":
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                chunk = b"y" * 65536
                for _ in range(2000):  # at most about 130 MB
                    self.wfile.write(chunk)
            elif path == "/silent":
                self.connection.settimeout(_SERVER_LIMIT_S)
                self.connection.recv(1)  # returns when the client gives up (or at the server's limit)
            elif path == "/agent":
                agent = (self.headers.get("User-Agent") or "").encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(agent)))
                self.end_headers()
                self.wfile.write(agent)
            elif path == "/redirect":
                target = self.path.split("to=", 1)[1]
                self.send_response(302)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

    do_POST = do_GET


@pytest.fixture
def faulty() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Faults)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


_open_clients: list[TargetClient] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _open_clients:
        _open_clients.pop().close()


def real_client(base_url: str, *, deadline_s: float = 1.0, max_bytes: int = 10_000_000, retries: int = 0,
                timeout_s: float = 60.0) -> TargetClient:
    """A read timeout far above the deadline: only the deadline can end a trickle or a silence early."""
    client = TargetClient(base_url, timeout_s=timeout_s, redactor=Redactor(), retries=retries, deadline_s=deadline_s,
                          max_response_bytes=max_bytes)
    _open_clients.append(client)
    return client


@pytest.mark.parametrize("path", ["/trickle", "/trickle-headers", "/silent"])
def test_a_trickling_or_silent_answer_ends_at_the_deadline(faulty: str, path: str) -> None:
    started = time.monotonic()
    response, exchange = real_client(faulty, deadline_s=0.5).send(Request("GET", path))
    took = time.monotonic() - started
    assert response is None
    assert exchange.status is None
    assert "DeadlineExceeded" in (exchange.error or "")
    assert "checks.request_deadline_s" in (exchange.error or "")
    # a bound, not a measurement: without the deadline this takes 20 s (the server's limit) or 60 s (read timeout)
    assert took < _SERVER_LIMIT_S / 2


def test_a_deadline_is_a_timeout_and_retried_like_one(faulty: str) -> None:
    hits.clear()
    _response, exchange = real_client(faulty, deadline_s=0.3, retries=1).send(Request("GET", "/trickle"))
    assert hits["/trickle"] == 2
    assert "after 2 attempts; checks.retries: 1" in (exchange.error or "")
    assert issubclass(DeadlineExceeded, httpx.TimeoutException)


def test_an_endless_answer_is_cut_at_the_cap_and_the_evidence_says_so(faulty: str) -> None:
    response, exchange = real_client(faulty, deadline_s=30, max_bytes=1_000_000).send(Request("GET", "/endless"))
    assert response is not None
    assert response.status_code == 200
    assert len(response.content) == 1_000_000
    assert response.extensions[CUT_AT] == 1_000_000
    assert "body cut at 1 MB" in exchange.response
    assert exchange.error is None


def test_an_answer_within_the_cap_is_whole_and_not_marked(faulty: str) -> None:
    response, exchange = real_client(faulty, max_bytes=2).send(Request("GET", "/fine"))
    assert response is not None
    assert response.content == b"ok"
    assert CUT_AT not in response.extensions
    assert "cut" not in exchange.response


def test_send_url_is_bounded_too(faulty: str) -> None:
    client = real_client(faulty, deadline_s=0.5, max_bytes=1000)
    response, exchange, _elapsed = client.send_url("GET", f"{faulty}/trickle")
    assert response is None
    assert "DeadlineExceeded" in (exchange.error or "")
    response, exchange, _elapsed = client.send_url("GET", f"{faulty}/endless")
    assert response is not None
    assert len(response.content) == 1000
    assert "body cut at 1 kB" in exchange.response


def _closed_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(("retries", "said"), [(0, "after 1 attempt; checks.retries: 0"),
                                                (1, "after 2 attempts; checks.retries: 1")])
def test_the_message_says_how_often_the_request_was_really_sent(retries: int, said: str) -> None:
    client = real_client(f"http://127.0.0.1:{_closed_port()}", retries=retries)
    _response, exchange = client.send(Request("GET", "/x"))
    assert "ConnectError" in (exchange.error or "")
    assert said in (exchange.error or "")
    _response, exchange, _elapsed = client.send_url("GET", f"http://127.0.0.1:{_closed_port()}/x")
    assert said in (exchange.error or "")


def test_a_post_that_may_have_arrived_says_why_it_was_not_repeated(faulty: str) -> None:
    _response, exchange = real_client(faulty, deadline_s=0.3, retries=2).send(Request("POST", "/silent", json={}))
    assert "after 1 attempt; a POST that may have reached the server is not repeated" in (exchange.error or "")


def test_redirects_are_not_followed(faulty: str) -> None:
    hits.clear()
    other = f"{faulty}/elsewhere"
    response, _exchange = real_client(faulty).send(Request("GET", "/redirect", params={"to": other}))
    assert response is not None
    assert response.status_code == 302
    response, _exchange, _elapsed = real_client(faulty).send_url("GET", f"{faulty}/redirect?to={other}")
    assert response is not None
    assert response.status_code == 302
    assert "/elsewhere" not in hits


@pytest.mark.parametrize("url", ["http://10.0.0.1:8080/x", "http://example.org/x", "http://[::ffff:10.0.0.1]/x"])
def test_urls_off_loopback_are_refused_before_sending(url: str) -> None:
    client = real_client("http://127.0.0.1:9")
    response, exchange, _elapsed = client.send_url("GET", url)
    assert response is None
    assert "not a loopback address" in (exchange.error or "")
    assert "allow_remote" in (exchange.error or "")


@pytest.mark.parametrize("path", ["//10.0.0.1:81/x", "@10.0.0.1:81/x", "http://10.0.0.1:81/x"])
def test_a_spec_path_never_leaves_the_backend(path: str) -> None:
    seen: list[httpx.URL] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(204)

    client = TargetClient("http://127.0.0.1:9", timeout_s=1, redactor=Redactor(), transport=httpx.MockTransport(answer))
    _response, exchange = client.send(Request("GET", path))
    assert all(url.host == "127.0.0.1" for url in seen)
    assert seen or "not a loopback address" in (exchange.error or "")


def test_allow_remote_lifts_the_guard() -> None:
    guarded = real_client("http://127.0.0.1:9")
    assert guarded._refused(httpx.URL("http://10.0.0.1/x"))
    assert guarded._refused(httpx.URL("http://127.0.0.1:8/x")) is None
    open_client = TargetClient("http://127.0.0.1:9", timeout_s=1, redactor=Redactor(), allow_remote=True)
    _open_clients.append(open_client)
    assert open_client._refused(httpx.URL("http://10.0.0.1/x")) is None


def test_byte_sizes_read_like_the_profile() -> None:
    assert byte_size(10_000_000) == "10 MB"
    assert byte_size(1500) == "1.5 kB"
    assert byte_size(12) == "12 bytes"


def test_evidence_is_rendered_once_when_first_read_and_labelled_copies_share_it():
    redactor = Redactor()
    answer = httpx.MockTransport(lambda request: httpx.Response(200, json={"k": "s3cr3t-value"}))
    client = TargetClient("http://127.0.0.1:9", timeout_s=1.0, redactor=redactor, transport=answer)
    renders: list[str] = []
    original = redactor.redact

    def counting(text: str) -> str:
        renders.append(text)
        return original(text)

    redactor.redact = counting  # type: ignore[method-assign]
    _response, exchange = client.send(Request("GET", "/x"))
    assert renders == []  # nothing rendered while nobody reads the text
    redactor.add_secret("s3cr3t-value", "learned-later")
    labelled = exchange.labelled(role="attack", actor="user1")
    assert "s3cr3t-value" not in labelled.response  # redacted with the secrets known when it is read
    assert labelled.response == exchange.response
    assert labelled.request == exchange.request
    assert len(renders) == 2  # request and response, once each, for both copies
    assert (labelled.role, labelled.actor, labelled.status) == ("attack", "user1", 200)
    assert "s3cr3t" not in repr(exchange)


@pytest.mark.parametrize("content_type", [
    "application/json", "text/html; charset=ISO-8859-1", 'text/plain; charset="utf-8"', "text/plain;charset=latin1",
    "application/json; Charset=UTF-16", "text/plain; charset=bogus", "text/plain; charset=", "",
])
def test_the_text_encoding_is_the_one_httpx_would_choose(content_type: str) -> None:
    body = "Grüße, Ärztin".encode("utf-16" if "16" in content_type else "latin-1" if "8859" in content_type
                                  or "latin" in content_type else "utf-8")
    headers = {"content-type": content_type} if content_type else {}
    by_httpx = httpx.Response(200, headers=headers, content=body)
    ours = httpx.Response(200, headers=headers, content=body)
    ours.encoding = text_encoding(content_type)
    assert codecs.lookup(ours.encoding).name == codecs.lookup(by_httpx.encoding or "utf-8").name
    assert ours.text == by_httpx.text


def test_a_host_named_in_capitals_is_still_loopback() -> None:
    assert real_client("http://127.0.0.1:9")._refused(httpx.URL("http://LOCALHOST:8/x")) is None


def test_the_shared_tls_context_honours_ssl_cert_file_like_httpx(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    import certifi

    from fixtures.engine import http

    bundle = tmp_path / "ca.pem"
    bundle.write_text(Path(certifi.where()).read_text().split("-----END CERTIFICATE-----")[0]
                      + "-----END CERTIFICATE-----\n")  # one CA: a staging system's own, say
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    http.tls_context.cache_clear()
    try:
        assert len(http.tls_context().get_ca_certs()) == 1
    finally:
        http.tls_context.cache_clear()  # the next test builds the default context again


def test_a_probe_or_spec_download_is_bounded_follows_no_redirect_and_sends_httpx_s_headers(faulty: str) -> None:
    from fixtures.engine.http import fetch

    def get(path: str, **limits: float) -> httpx.Response:
        return fetch(faulty + path, **{"timeout_s": 60.0, "deadline_s": 5.0, "max_bytes": 10_000, **limits})

    assert get("/agent").text.startswith("python-httpx/")
    hits.pop("/landing", None)
    moved = get(f"/redirect?to={faulty}/landing")
    assert moved.status_code == 302
    assert "/landing" not in hits
    cut = get("/endless", max_bytes=1000)
    assert len(cut.content) == 1000
    assert cut.extensions[CUT_AT] == 1000
    with pytest.raises(DeadlineExceeded):  # the read timeout (60 s) is far above the trickle's 50 ms per byte
        get("/trickle", deadline_s=0.5)
