"""The requirement catalogue: every check id of design.md resolves, labels, caveats, validation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reports import RequirementCatalogueError, UnknownCheckError, load_requirement_catalogue
from reports._requirements import DEFAULT_PATH

DESIGN_CHECKS = [
    "unauthenticated_access",
    "invalid_token",
    "cross_user_read",
    "cross_user_write",
    "cross_user_delete",
    "cross_user_listing",
    "existence_oracle",
    "enumerable_id",
    "account_existence_leak",
    "account_existence_timing",
    "function_level_access",
    "idp_password_policy",
    "idp_brute_force",
    "idp_mfa",
    "idp_token_lifetime",
    "idp_audit_events",
    "fhir_export_valid",
    "fhir_export_own_data_only",
]


@pytest.mark.parametrize("check", DESIGN_CHECKS)
def test_every_check_id_resolves_to_described_requirements(check: str) -> None:
    catalogue = load_requirement_catalogue()
    labels = catalogue.requirements_for(check)
    assert labels
    assert len(labels) == len(set(labels))
    row = catalogue.row(check)
    assert row.description["en"]
    assert row.description["de"]
    if not check.startswith("fhir_export_"):
        assert any(label.startswith(("OWASP API", "CWE-")) for label in labels)


def test_labels_of_the_example_row() -> None:
    assert load_requirement_catalogue().requirements_for("unauthenticated_access") == [
        "TR-03161 O.Auth_7",
        "TR-03161 O.Arch_5",
        "TR-03161 O.Auth_21",
        "DiGAV Anl. 1 DS 9",
        "DiGAV Anl. 1 DS 16",
        "DiGAV Anl. 1 DS 20",
        "OWASP API2:2023",
        "ASVS 4.0.3 4.1.1",
        "ASVS 4.0.3 4.1.5",
        "ASVS 5.0 8.3.1",
        "ASVS 5.0 8.2.1",
        "CWE-306",
        "CWE-862",
    ]


def test_qualified_mappings_keep_their_note() -> None:
    row = load_requirement_catalogue().row("cross_user_write")
    notes = {ref.label: ref.note.get("en") for ref in row.refs if ref.note}
    assert notes == {"OWASP API3:2023": "when properties change", "CWE-915": "when properties change"}
    assert "DiGAV Anl. 1 DS+ 4" in load_requirement_catalogue().requirements_for("idp_mfa")
    assert "DiGAV § 6a" in load_requirement_catalogue().requirements_for("fhir_export_bundle")


def test_only_the_unchecked_rows_are_marked_unverified() -> None:
    catalogue = load_requirement_catalogue()
    unverified = sorted(check for check, row in catalogue.rows.items() if not row.verified)
    assert unverified == ["data_exposure", "function_level_access", "idp_client_hardening", "idp_established",
                          "invalid_token", "mass_assignment"]


def test_a_prefix_row_covers_the_family_only() -> None:
    catalogue = load_requirement_catalogue()
    assert catalogue.row("fhir_export_anything").check == "fhir_export_*"
    with pytest.raises(UnknownCheckError, match="Did you mean 'idp_mfa'"):
        catalogue.requirements_for("idp_mf")
    with pytest.raises(UnknownCheckError, match="'idp_anything' has no row"):
        catalogue.requirements_for("idp_anything")


def test_catalogues_and_caveats() -> None:
    catalogue = load_requirement_catalogue()
    assert list(catalogue.catalogues) == ["tr_03161", "digav_annex1", "digav", "owasp_api_2023", "asvs", "cwe"]
    assert catalogue.catalogues["asvs"].versions.keys() == {"4.0.3", "5.0"}
    assert catalogue.catalogues["owasp_api_2023"].version == {"en": "2023", "de": "2023"}
    assert catalogue.catalogues["tr_03161"].version is None  # not stated by the transcription: the report says so
    assert len(catalogue.caveats) == 7
    assert all(caveat["en"] and caveat["de"] for caveat in catalogue.caveats)
    unverified = "invalid_token, function_level_access and mass_assignment"
    assert any(unverified in caveat["en"] for caveat in catalogue.caveats)
    assert any("§ 139e" in caveat["de"] for caveat in catalogue.caveats)


def test_the_bundled_catalogue_is_cached() -> None:
    assert load_requirement_catalogue() is load_requirement_catalogue()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'asvs: {"4.0.3": ["4.2.1"], "5.0": ["8.2.2"]}',
            'asvs: {"4.0.3": [4.2], "5.0": ["8.2.2"]}',
            "quote dotted ids",
        ),
        ('asvs: {"4.0.3": ["4.2.1"], "5.0": ["8.2.2"]}', 'asvs: {"4.0": ["4.2.1"]}', "unknown key '4.0'"),
        ("    owasp_api_2023: [API1]\n", "    owasp_api_2032: [API1]\n", "Did you mean 'owasp_api_2023'?"),
        ('  - en: "No TR-03161', '  - fr: "No TR-03161', "caveats[2]: unknown key 'fr'"),
    ],
)
def test_a_broken_catalogue_is_refused_with_the_place(tmp_path: Path, old: str, new: str, message: str) -> None:
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "requirements.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RequirementCatalogueError, match=re.escape(message)):
        load_requirement_catalogue(path=path)
