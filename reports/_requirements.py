"""The requirement catalogue (`requirements.yaml`): which requirements each check id concerns."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reports._data import read_yaml
from reports._records import check_sort_key

DEFAULT_PATH = Path(__file__).with_name("requirements.yaml")
LANGUAGES: tuple[str, ...] = ("en", "de")
_ROW_KEYS = frozenset({"description", "verified"})
_EMPTY_TEXT: Mapping[str, str] = {}


class RequirementCatalogueError(ValueError):
    """requirements.yaml does not have the expected shape; the message names the offending key."""


class UnknownCheckError(KeyError):
    """A check id has no row in the requirement catalogue."""

    def __init__(self, check: str, known: list[str]) -> None:
        close = difflib.get_close_matches(check, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        super().__init__(f"check id {check!r} has no row in the requirement catalogue.{hint}")
        self.check = check

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Catalogue:
    """One source of requirements (TR-03161, DiGAV Annex 1, OWASP API Top 10, ASVS, CWE, ...)."""

    key: str
    label: str
    name: Mapping[str, str]
    version: Mapping[str, str] | None
    source: Mapping[str, str]
    versions: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RequirementRef:
    """One requirement a check concerns; `note` qualifies the mapping (e.g. "nearest")."""

    catalogue: str
    id: str
    label: str
    version: str | None = None
    note: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckRequirements:
    """The catalogue row of one check id (or of a prefix such as `fhir_export_*`)."""

    check: str
    refs: tuple[RequirementRef, ...]
    description: Mapping[str, str]
    verified: bool = True

    def labels(self) -> list[str]:
        return [ref.label for ref in self.refs]


@dataclass(frozen=True)
class RequirementCatalogue:
    catalogues: Mapping[str, Catalogue]
    caveats: tuple[Mapping[str, str], ...]
    rows: Mapping[str, CheckRequirements]

    def row(self, check: str) -> CheckRequirements:
        """The row of `check`: its own, else the `prefix*` row it falls under; UnknownCheckError otherwise."""
        if check in self.rows:
            return self.rows[check]
        for key, row in self.rows.items():
            if key.endswith("*") and check.startswith(key[:-1]):
                return row
        raise UnknownCheckError(check, list(self.rows))

    def requirements_for(self, check: str) -> list[str]:
        """Flat labels, e.g. `["TR-03161 O.Auth_7", "DiGAV Anl. 1 DS 9", "OWASP API2:2023", "CWE-306"]`."""
        return self.row(check).labels()

    def check_ids(self) -> list[str]:
        return sorted(self.rows, key=check_sort_key)


def load_requirement_catalogue(*, path: Path | None = None) -> RequirementCatalogue:
    """Load and validate requirements.yaml (the bundled one unless `path` is given; that one is cached)."""
    if path is None:
        return _load_default()
    return _parse(read_yaml(path), str(path))


@functools.cache
def _load_default() -> RequirementCatalogue:
    return _parse(read_yaml(DEFAULT_PATH), str(DEFAULT_PATH))


def _parse(raw: Any, where: str) -> RequirementCatalogue:
    data = _mapping(raw, where)
    _only_keys(data, {"catalogues", "caveats", "checks"}, where)
    catalogues = {
        key: _catalogue(key, value, f"catalogues.{key}")
        for key, value in _mapping(data.get("catalogues"), "catalogues").items()
    }
    caveats_raw = data.get("caveats")
    if not isinstance(caveats_raw, list):
        raise RequirementCatalogueError("caveats: expected a list of {en, de} texts")
    caveats = tuple(_text(item, f"caveats[{index}]") for index, item in enumerate(caveats_raw))
    rows = {
        str(check): _row(str(check), value, catalogues)
        for check, value in _mapping(data.get("checks"), "checks").items()
    }
    return RequirementCatalogue(catalogues=catalogues, caveats=caveats, rows=rows)


def _catalogue(key: str, raw: Any, where: str) -> Catalogue:
    data = _mapping(raw, where)
    _only_keys(data, {"label", "name", "version", "source", "versions"}, where)
    versions = {str(k): str(v) for k, v in _mapping(data.get("versions", {}), f"{where}.versions").items()}
    version = data.get("version")
    return Catalogue(
        key=key,
        label=_string(data.get("label"), f"{where}.label"),
        name=_text(data.get("name"), f"{where}.name"),
        version=None if version is None else _localised(version, f"{where}.version"),
        source=_localised(data.get("source"), f"{where}.source"),
        versions=versions,
    )


def _row(check: str, raw: Any, catalogues: Mapping[str, Catalogue]) -> CheckRequirements:
    where = f"checks.{check}"
    data = _mapping(raw, where)
    _only_keys(data, set(catalogues) | _ROW_KEYS, where)
    verified = data.get("verified", True)
    if not isinstance(verified, bool):
        raise RequirementCatalogueError(f"{where}.verified: expected true or false, got {verified!r}")
    refs: list[RequirementRef] = []
    for key, catalogue in catalogues.items():
        if key in data:
            refs.extend(_refs(catalogue, data[key], f"{where}.{key}"))
    description = _text(data.get("description"), f"{where}.description")
    return CheckRequirements(check=check, refs=tuple(refs), description=description, verified=verified)


def _refs(catalogue: Catalogue, raw: Any, where: str) -> list[RequirementRef]:
    if not catalogue.versions:
        return [_ref(catalogue, None, item, f"{where}[{i}]") for i, item in enumerate(_list(raw, where))]
    refs: list[RequirementRef] = []
    for version, items in _mapping(raw, where).items():
        if str(version) not in catalogue.versions:
            _unknown(str(version), set(catalogue.versions), where)
        items_where = f"{where}.{version}"
        refs.extend(
            _ref(catalogue, str(version), item, f"{items_where}[{i}]")
            for i, item in enumerate(_list(items, items_where))
        )
    return refs


def _ref(catalogue: Catalogue, version: str | None, raw: Any, where: str) -> RequirementRef:
    note: Mapping[str, str] = _EMPTY_TEXT
    if isinstance(raw, Mapping):
        _only_keys(raw, {"id", "note"}, where)
        note = _text(raw.get("note"), f"{where}.note")
        raw = raw.get("id")
    ident = _ident(raw, where)
    label = catalogue.label.format(id=ident, version=version)
    return RequirementRef(catalogue=catalogue.key, id=ident, label=label, version=version, note=note)


def _ident(raw: Any, where: str) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise RequirementCatalogueError(f"{where}: expected a string or integer id, got {raw!r} (quote dotted ids)")
    return str(raw)


def _text(raw: Any, where: str) -> Mapping[str, str]:
    data = _mapping(raw, where)
    _only_keys(data, set(LANGUAGES), where)
    return {lang: _string(data.get(lang), f"{where}.{lang}") for lang in LANGUAGES}


def _localised(raw: Any, where: str) -> Mapping[str, str]:
    """A text per language, or one string that reads the same in every language."""
    if isinstance(raw, str):
        return dict.fromkeys(LANGUAGES, _string(raw, where))
    return _text(raw, where)


def _mapping(raw: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise RequirementCatalogueError(f"{where}: expected a mapping, got {type(raw).__name__}")
    return raw


def _list(raw: Any, where: str) -> list[Any]:
    if not isinstance(raw, list):
        raise RequirementCatalogueError(f"{where}: expected a list, got {type(raw).__name__}")
    return raw


def _string(raw: Any, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise RequirementCatalogueError(f"{where}: expected a non-empty string, got {raw!r}")
    return raw


def _only_keys(data: Mapping[str, Any], allowed: set[str] | frozenset[str], where: str) -> None:
    for key in data:
        if key not in allowed:
            _unknown(str(key), allowed, where)


def _unknown(key: str, allowed: set[str] | frozenset[str], where: str) -> None:
    close = difflib.get_close_matches(key, sorted(allowed), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else f" Expected one of: {', '.join(sorted(allowed))}."
    raise RequirementCatalogueError(f"{where}: unknown key {key!r}.{hint}")
