"""Permission matrix, purpose of use, masking."""

from __future__ import annotations

import pytest

from casegraph.governance.masking import MASK, mask_record, mask_text
from casegraph.governance.permissions import MATRIX, PERMISSIONS, ROLES, allowed
from casegraph.governance.purpose import PurposeRequired, check_purpose, is_identifier_query


def test_matrix_is_complete_and_known() -> None:
    assert set(MATRIX) == set(ROLES)
    for perms in MATRIX.values():
        assert perms <= set(PERMISSIONS)
    assert allowed("supervisor", "leads.decide")
    assert not allowed("analyst", "leads.decide")
    assert not allowed("auditor", "person.read")
    assert allowed("auditor", "audit.read") and not allowed("admin", "audit.read")
    with pytest.raises(KeyError):
        allowed("analyst", "no.such.permission")
    assert not allowed("nobody", "leads.read")


@pytest.mark.parametrize("purpose", ["C-000123", "ABC-2026-0001",
                                     "locating subject for scheduled removal flight"])
def test_purpose_accepted(gws, purpose) -> None:
    assert check_purpose(gws, purpose) == purpose


@pytest.mark.parametrize("purpose", [None, "", "   ", "curious", "c-1", "x" * 501])
def test_purpose_refused(gws, purpose) -> None:
    with pytest.raises(PurposeRequired):
        check_purpose(gws, purpose)


def test_purpose_rule_configurable(gws) -> None:
    gws.set_section("governance", {"purpose_min_chars": 5})
    assert check_purpose(gws, "audit") == "audit"


def test_identifier_queries() -> None:
    assert is_identifier_query("012345678")
    assert is_identifier_query("A 123-456-789")
    assert is_identifier_query("passport X1234567")
    assert not is_identifier_query("maria garcia")
    assert not is_identifier_query("born 1990")


def test_masking() -> None:
    row = {"kind": "status", "status_type": "u_visa_applicant", "status_date": "2024-03-01",
           "status_detail": "victim", "full_name": "Ana"}
    m = mask_record(row, "analyst")
    assert m["status_type"] == "protected_status"
    assert m["status_detail"] == MASK and m["status_date"] == MASK
    assert m["full_name"] == "Ana"
    assert mask_record(row, "supervisor") == row
    plain = {"kind": "status", "status_type": "us_citizen", "status_detail": "x"}
    assert mask_record(plain, "analyst")["status_type"] == "us_citizen"
    assert mask_record(plain, "analyst")["status_detail"] == MASK
    assert "masked" in mask_text("u_visa_applicant pending", "officer")
    assert mask_text("u_visa_applicant pending", "supervisor") == "u_visa_applicant pending"
