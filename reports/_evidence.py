"""Evidence helpers shared by the writers: text for XML, clipping, and a reproduction curl command."""

from __future__ import annotations

import base64
import json
import re
import shlex
import string
from collections.abc import Mapping, Sequence

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


def curl_command(request: str, base_url: str | None, variables: Mapping[str, str] | None = None) -> str | None:
    """A shell command that repeats a recorded HTTP request; None when the text is not an HTTP request.

    A redacted credential becomes a shell variable: `variables` maps redaction labels (`token:user2`) to variable
    names (`TOKEN_B`); without an entry the name comes from the label (`<redacted:token:user2>` -> `$TOKEN_USER2`,
    `<redacted:forged-token:alg_none>` -> `$FORGED_TOKEN_ALG_NONE`, `$TOKEN` in an Authorization header without a
    marker), so the command never carries a credential and the reader supplies their own.
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
            command.append("-H " + _header(name.strip(), value.strip(), variables or {}))
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


def _header(name: str, value: str, variables: Mapping[str, str]) -> str:
    if name.lower() in ("authorization", "proxy-authorization"):
        scheme, _, _credential = value.partition(" ")
        marker = _MARKER.search(value)
        if scheme.lower() != "bearer":
            return f'"{name}: $AUTHORIZATION"'
        variable = _variable(marker.group(1), variables) if marker else "TOKEN"
        return f'"{name}: Bearer ${variable}"'
    if not _MARKER.search(value):
        return shlex.quote(f"{name}: {value}")
    # a credential in another header or a cookie: the marker becomes a variable, the rest stays literal
    parts = _MARKER.split(f"{name}: {value}")
    quoted = [shlex.quote(part) if index % 2 == 0 else f'"${_variable(part, variables)}"'
              for index, part in enumerate(parts) if part or index % 2]
    return "".join(quoted)


def _variable(label: str, variables: Mapping[str, str]) -> str:
    return variables.get(label) or re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_").upper()


# -- reproduction: the attack, and for cross-user findings the short story around it ---------------------------------
# The comment lines, per report language (the commands themselves are the same in every language).
_STEP = {
    "en": {
        "baseline": "{who} sends its own valid request (it succeeds)",
        "attack": "the attack: {who}",
        "proof": "{who} reads the object again (state proof)",
        "reference": "for comparison: {who}",
    },
    "de": {
        "baseline": "{who} sendet die eigene gültige Anfrage (sie ist erfolgreich)",
        "attack": "der Angriff: {who}",
        "proof": "{who} liest das Objekt erneut (Zustandsnachweis)",
        "reference": "zum Vergleich: {who}",
    },
}
_WORDS = {
    "en": {"anonymous": "a caller without any credentials", "user": "user {letter} ({actor})",
           "harness": "the harness", "with": " with ", "and": " and ", "no_credential": ", no credential",
           "the_user": "the user", "owner": "{who}", "of": "{what} of {who}"},
    "de": {"anonymous": "ein Aufrufer ohne jegliche Zugangsdaten", "user": "Benutzer {letter} ({actor})",
           "harness": "das Prüfwerkzeug", "with": " mit ", "and": " und ", "no_credential": ", ohne Zugangsnachweis",
           "the_user": "des Benutzers", "owner": "von {who}",
           "of": "{what} von {who}"},
}
# Forged tokens are not printed: `alg: none` and re-signed tokens carry the owner's real claims (identity, session
# ids) and, where the backend accepts them, work like the owner's own credential until their exp. The reader builds
# the same forgery from a token of their own instead; these commands do it as the harness does.
_ALG_NONE_HEADER = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}, separators=(",", ":"))
                                            .encode()).decode().rstrip("=")
_PY_CLAIMS = ("import base64,json,sys;h,p,s=sys.argv[1].split('.');"
              "c=json.loads(base64.urlsafe_b64decode(p+'='*(-len(p)%4)));")
_PY_ENCODE = "e=lambda v:base64.urlsafe_b64encode(json.dumps(v,separators=(',',':')).encode()).decode().rstrip('=');"
_FORGED = {
    "en": {
        "garbage": "a random string that is not a JWT",
        "alg_none": "{base}'s claims under header alg: none, without a signature",
        "tampered_claims": "{base}'s token with exp one day later and an added claim, the original signature",
        "hs256_resigned": "{base}'s claims signed with HS256 under a random key",
    },
    "de": {
        "garbage": "eine zufällige Zeichenkette, die kein JWT ist",
        "alg_none": "die Claims von {base} unter dem Header alg: none, ohne Signatur",
        "tampered_claims": "das Token von {base} mit einem Tag späterem exp und einem zusätzlichen Claim, mit der "
                           "ursprünglichen Signatur",
        "hs256_resigned": "die Claims von {base}, mit HS256 unter einem zufälligen Schlüssel signiert",
    },
}
_FORGERIES = {
    "garbage": ("garbage",
                "\"$(head -c 36 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\\n')\""),
    "alg_none": ("alg_none",
                 f'"{_ALG_NONE_HEADER}.$(printf %s "${{base}}" | cut -d. -f2)."'),
    "tampered_claims": ("tampered_claims",
                        "\"$(python3 -c \"" + _PY_CLAIMS + _PY_ENCODE
                        + "c['digasec']='tampered';'exp' in c and c.update(exp=c['exp']+86400);"
                          "print(h+'.'+e(c)+'.'+s)\" \"${base}\")\""),
    "hs256_resigned": ("hs256_resigned",
                       "\"$(python3 -c \"import hmac,hashlib,secrets;" + _PY_CLAIMS + _PY_ENCODE
                       + "g=json.loads(base64.urlsafe_b64decode(h+'='*(-len(h)%4)));g['alg']='HS256';"
                         "i=e(g)+'.'+p;m=hmac.new(secrets.token_bytes(32),i.encode(),hashlib.sha256).digest();"
                         "print(i+'.'+base64.urlsafe_b64encode(m).decode().rstrip('='))\" \"${base}\")\""),
}
_EXPIRED = {"en": "an access token of {user} that has expired (wait at least 5 minutes past its exp)",
            "de": "ein abgelaufenes Zugriffstoken {user} (mindestens 5 Minuten nach seinem exp abwarten)"}
_OTHER_AUDIENCE = {"en": "an access token of {user} issued to a client without the backend's audience",
                   "de": "ein Zugriffstoken {user}, ausgestellt für einen Client ohne die Audience des Backends"}
_DESCRIBED = {"forged-token:expired": _EXPIRED, "expired-token": _EXPIRED,
              "forged-token:wrong_audience": _OTHER_AUDIENCE}
_KINDS = {
    "en": {"token": "an access token", "cookie": "the session cookie", "csrf": "the CSRF token",
           "password": "the password"},
    "de": {"token": "ein Zugriffstoken", "cookie": "das Sitzungscookie", "csrf": "das CSRF-Token",
           "password": "das Passwort"},
}


def reproduction(evidence: Sequence[Evidence], base_url: str | None, *, lang: str = "en") -> str | None:
    """The commands that repeat a finding: where the evidence says which request is the attack, the numbered steps
    (the owner's own request, the attack, the owner's re-read), each credential a shell variable (`$TOKEN_A` for
    the first user that appears, `$TOKEN_B` for the next, ...), with comment lines saying what to put in each;
    forged tokens are rebuilt from the reader's own token. Older evidence without roles: the first request. The
    comments are in `lang` (en, de); the commands are the same in every language."""
    lang = lang if lang in _STEP else "en"
    words = _WORDS[lang]
    steps = [item for item in evidence if item.role and item.request]
    if not any(item.role == "attack" for item in steps):
        first = next((item for item in evidence if item.request), None)
        return curl_command(first.request, base_url) if first else None
    letters = _letters(steps)
    variables: dict[str, str] = {}
    setup: list[str] = []
    commands: list[str] = []
    for number, item in enumerate(steps, start=1):
        labels = _MARKER.findall(item.request)
        for label in labels:
            _define(label, item.actor, letters, variables, setup, lang)
        command = curl_command(item.request, base_url, variables)
        if command is None:
            continue
        who = _who(item.actor, letters, lang)
        if item.role == "attack" and item.actor != "anonymous":
            who += (words["with"] + words["and"].join(f"${variables[label]}" for label in labels) if labels
                    else words["no_credential"])
        commands.append(f"# {number}. " + _STEP[lang].get(item.role, "{who}").format(who=who) + f"\n{command}")
    if not commands:
        return None
    return "\n".join([*setup, *commands]) if len(commands) > 1 or setup else commands[0]


def _letters(steps: Sequence[Evidence]) -> dict[str, str]:
    """User keys in order of appearance -> A, B, C, ... (`anonymous` gets none)."""
    letters: dict[str, str] = {}
    for item in steps:
        if item.actor and item.actor != "anonymous" and item.actor not in letters:
            letters[item.actor] = string.ascii_uppercase[len(letters) % 26]
    return letters


def _who(actor: str, letters: Mapping[str, str], lang: str = "en") -> str:
    words = _WORDS[lang]
    if actor == "anonymous":
        return words["anonymous"]
    if actor in letters:
        return words["user"].format(letter=letters[actor], actor=actor)
    return words["harness"]


def _define(
    label: str, actor: str, letters: dict[str, str], variables: dict[str, str], setup: list[str], lang: str = "en"
) -> str:
    """The variable for a redaction label (registered in `variables`), with a comment (or a command) in `setup`
    saying how to fill it."""
    if label in variables:
        return variables[label]
    kind, _, owner = label.partition(":")
    if kind == "forged-token" and owner in _FORGERIES:
        name, command = _FORGERIES[owner]
        what = _FORGED[lang][name]
        if "{base}" in command:
            base = _define(f"token:{actor}", actor, letters, variables, setup, lang) if actor else "TOKEN"
            what, command = what.format(base="$" + base), command.replace("{base}", base)
        setup.append(f"# $FORGED_TOKEN: {what}\nFORGED_TOKEN={command}")
        variable = "FORGED_TOKEN"
    elif label in _DESCRIBED:
        variable = "EXPIRED_TOKEN" if "expired" in label else "OTHER_AUDIENCE_TOKEN"
        words = _WORDS[lang]
        user = words["owner"].format(who=_who(actor, letters, lang)) if actor else words["the_user"]
        setup.append(f"# ${variable}: " + _DESCRIBED[label][lang].format(user=user))
    elif owner and kind in _KINDS[lang]:
        letters.setdefault(owner, string.ascii_uppercase[len(letters) % 26])
        variable = f"{re.sub(r'[^A-Za-z0-9]+', '_', kind).upper()}_{letters[owner]}"
        setup.append(f"# ${variable}: " + _WORDS[lang]["of"].format(what=_KINDS[lang][kind],
                                                                     who=_who(owner, letters, lang)))
    else:
        variable = _variable(label, {})
    variables[label] = variable
    return variable
