"""Evidence helpers shared by the writers: text for XML, clipping, and a reproduction curl command."""

from __future__ import annotations

import re
import shlex

from reports._records import Evidence, ResultRecord

EVIDENCE_LIMIT = 20_000
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MARKER = re.compile(r"<redacted:([^>\s]+)>")
_CURL_SKIPS = frozenset({"host", "content-length", "connection", "transfer-encoding", "accept-encoding"})


def xml_safe(text: str) -> str:
    """Replace characters XML 1.0 cannot hold (NUL, most C0 controls, lone surrogates) by a visible escape."""
    return _NOT_XML.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def clip(text: str, limit: int = EVIDENCE_LIMIT) -> tuple[str, int]:
    """The first `limit` characters of `text` and how many characters were left out."""
    if len(text) <= limit:
        return text, 0
    return text[:limit], len(text) - limit


def evidence_text(result: ResultRecord, limit: int = EVIDENCE_LIMIT) -> str:
    """All evidence of a result as plain text with request/response separators, each part clipped."""
    blocks: list[str] = []
    for number, item in enumerate(result.evidence, start=1):
        for part, whole in _parts(item):
            if whole:
                text, omitted = clip(whole, limit)
                note = f"\n[... {omitted} characters omitted]" if omitted else ""
                blocks.append(f"--- evidence {number}: {part} ---\n{text}{note}")
    return "\n".join(blocks)


def _parts(item: Evidence) -> tuple[tuple[str, str], tuple[str, str]]:
    return ("request", item.request), ("response", item.response)


def curl_command(request: str, base_url: str | None) -> str | None:
    """A shell command that repeats a recorded HTTP request; None when the text is not an HTTP request.

    The Authorization credential becomes a shell variable named after its redaction marker
    (`<redacted:token:user2>` -> `$TOKEN_USER2`, `<redacted:forged-token:alg_none>` -> `$FORGED_TOKEN_ALG_NONE`,
    `$TOKEN` without a marker), so the command never carries a credential and the reader supplies their own.
    """
    head, _, body = request.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    request_line = lines[0].split()
    if len(request_line) != 3 or not request_line[2].startswith("HTTP/"):
        return None
    method, target = request_line[0].upper(), request_line[1]
    command = ["curl " + " ".join([*_method_flag(method), _url(target, base_url)])]
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon and name.strip().lower() not in _CURL_SKIPS:
            command.append("-H " + _header(name.strip(), value.strip()))
    if body:
        command.append("--data-raw " + shlex.quote(body))
    return " \\\n  ".join(command)


def _method_flag(method: str) -> list[str]:
    if method == "GET":
        return []
    if method == "HEAD":
        return ["--head"]
    return ["-X", method]


def _url(target: str, base_url: str | None) -> str:
    if target.startswith(("http://", "https://")):
        return shlex.quote(target)
    if base_url:
        return shlex.quote(base_url.rstrip("/") + target)
    return '"$BASE_URL"' + shlex.quote(target)


def _header(name: str, value: str) -> str:
    if name.lower() not in ("authorization", "proxy-authorization"):
        return shlex.quote(f"{name}: {value}")
    scheme, _, _credential = value.partition(" ")
    marker = _MARKER.search(value)
    variable = re.sub(r"[^A-Za-z0-9]+", "_", marker.group(1)).strip("_").upper() if marker else "TOKEN"
    if scheme.lower() != "bearer":
        variable = "AUTHORIZATION"
        return f'"{name}: ${variable}"'
    return f'"{name}: Bearer ${variable}"'
