"""Documents are built in SQL; the query side folds with Python. Both must agree exactly.

The SQL forms of ``normalise_text`` and ``norm_identifier`` (``documents.fold_sql``,
``documents.ident_forms_sql``) are checked here against the Python functions on awkward
values, and a built document is checked field by field.
"""

from __future__ import annotations

import base64
import json

import duckdb
import pytest

from casegraph.search import documents
from casegraph.search.phonetic import phonetic_keys
from casegraph.search.query import IDENTIFIER_FIELDS, norm_identifier
from casegraph.sources.normalise import normalise_text

NAMES = [
    "Maria Garcia", "maria", "MARIA  GARCIA", " Maria Garcia ", "O'Brien", "Al-Masri",
    "Garcia_Lopez", "Mary\tAnn", "Ann\x0bMarie", "Ann\x1cMarie", "J.R.R. Tolkien", "---",
    "", "   ", "a1 b2", "—", "«»", "Nguyễn Văn", "Łukasz Żółć", "Straße", "Иванова", "Zoë  Ann",
    "Ølga", "x\u00a0y", "名字", "Dr. José-María  de la Cruz", "ab__cd", "Smith (Jr.)",
]

IDENTS = [
    "012345678", "12345678", "A012345678", "a12345678", "A-012-345-678", "1234567", "123456",
    "1234567890", "A", "", "  ", "ab-12 34", "G1234567", "FB12345X", "D1234-5678",
    "(713) 555-0101", "+1 (713) 555-0101 ext 12", "555", "M.Rahman@Example.org",
    "  <Foo.Bar@EXAMPLE.org>. ", "no-at-sign", "@", "a@", "123-45-6789", "Ñ-12", "Å1234567",
    "０１２３４５６７８", "tel:\t713 555 0101",
]


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    documents.register_functions(c)
    yield c
    c.close()


@pytest.mark.parametrize("value", NAMES)
def test_sql_fold_is_normalise_text(con, value):
    got = con.execute(f"select {documents.fold_sql('x')} from (select ?::varchar as x)",
                      [value]).fetchall()[0][0]
    assert got == normalise_text(value)


@pytest.mark.parametrize("field_name", list(IDENTIFIER_FIELDS))
def test_sql_identifier_forms_are_norm_identifier(con, field_name):
    for value in IDENTS:
        rows = con.execute(
            f"select list_filter({documents.ident_forms_sql(field_name, 'v')}, "
            "lambda y: y is not null and y <> '') from (select ?::varchar as v)",
            [value]).fetchall()
        assert set(rows[0][0]) == set(norm_identifier(field_name, value)), (field_name, value)


def test_registering_functions_twice_is_harmless(con):
    documents.register_functions(con)


def _doc(ws, pid):
    for b in documents.iter_document_batches(ws, [pid]):
        for p, d in zip(b.person_ids, b.docs):
            if p == pid:
                return json.loads(d)
    raise AssertionError(pid)


def test_document_fields(ro_ws):
    d = _doc(ro_ws, "P-000001")
    assert d["person_id"] == "P-000001"
    assert {"maria garcia lopez", "maria garcia", "mary garcia", "maria lopez"} <= set(d["name"])
    assert d["name_raw"] == ["María García"]  # only the forms that differ once folded
    assert set(d["name_phon"]) >= set(phonetic_keys("garcia")) | set(phonetic_keys("maria"))
    assert d["dob"] == ["1987-03-04"] and d["year"] == ["1987"]
    assert d["a_number"] == ["012345678"] and d["passport"] == ["G1234567"]
    assert d["phone"] == ["7135550101"]
    assert "ident" not in d  # schema 2: identifiers are searched field by field
    assert d["locality"] == ["houston"] and d["nationality"] == ["MX"]
    assert d["eligible"] == "yes" and d["open_case"] == "no" and d["record_count"] == 2
    payload = json.loads(base64.b64decode(d["payload"]))
    assert payload["full_name"] == "Maria Garcia Lopez" and payload["eligible"] is True
    assert payload["identifiers"]["passport_number"] == ["G1234567"]


def test_every_identifier_has_its_own_field(ro_ws):
    d = _doc(ro_ws, "P-000003")
    assert d["national_id"] == ["123456789"]  # searchable only by roles that may see it
    assert d["email"] == ["m.rahman@example.org"] and d["fbi"] == ["FB12345X"]


def test_partitioned_build_yields_every_person_once(people_ws, monkeypatch):
    whole = {p: d for b in documents.iter_document_batches(people_ws)
             for p, d in zip(b.person_ids, b.docs)}
    monkeypatch.setattr(documents, "PARTITION_PERSONS", 2)
    parts = [p for b in documents.iter_document_batches(people_ws, batch_size=1)
             for p in b.person_ids]
    assert sorted(parts) == sorted(whole) and len(parts) == len(whole) == 6
    got = {p: d for b in documents.iter_document_batches(people_ws)
           for p, d in zip(b.person_ids, b.docs)}
    assert got == whole


def test_reader_errors_reach_the_consumer():
    def boom():
        yield 1
        raise RuntimeError("warehouse went away")

    it = documents._prefetched(boom(), 2)
    assert next(it) == 1
    with pytest.raises(RuntimeError, match="went away"):
        next(it)


def test_consumer_stopping_early_stops_the_reader():
    closed = []

    def many():
        try:
            yield from range(1000)
        finally:
            closed.append(True)

    it = documents._prefetched(many(), 2)
    assert next(it) == 0
    it.close()
    assert closed == [True]
