"""Layouts found by the end-to-end scenarios (tests/e2e): European exports and foreign names."""

from __future__ import annotations

import pytest

from casegraph.ontology import KINDS
from casegraph.sources.countries import to_alpha2
from casegraph.sources.ingest import ingest_specs
from casegraph.sources.spec import SpecError, match_column
from casegraph.sources.transform import parse_values


def rec(ws, key):
    rows = ws.query("select * from records where record_key = ? and is_current", [key])
    assert len(rows) == 1, key
    return rows[0]


def test_excel_sep_line_names_the_delimiter(ws, make_source):
    data = "sep=;\r\nid;name;born\r\n1;GARCÍA LÓPEZ, María;14/03/1985\r\n2;Dvořák, Jiří;\r\n"
    spec = {"source": "p", "kind": "person", "record_id": "id", "encoding": "cp1250",
            "fields": {"full_name": "name", "birth_date": {"column": "born",
                                                           "format": "%d/%m/%Y"}}}
    [r] = ingest_specs(ws, [make_source(spec, data, encoding="cp1250")], progress=False)
    assert (r.read, r.accepted, r.quarantined) == (2, 2, 0)
    one = rec(ws, "p:1")
    assert one["family_name"] == "GARCÍA LÓPEZ" and str(one["birth_date"]) == "1985-03-14"
    assert rec(ws, "p:2")["family_name"] == "Dvořák"


def test_sep_line_with_skip_rows_and_no_header_is_a_clear_error(ws, make_source):
    spec = {"source": "p", "kind": "person", "record_id": "id", "skip_rows": 1,
            "fields": {"full_name": "name"}}
    path = make_source(spec, "Export of 2026-11-01\nsep=|\nid|name\n1|Ana\n")
    [r] = ingest_specs(ws, [path], progress=False)
    assert (r.read, r.accepted) == (1, 1)
    bad = make_source({**spec, "source": "q", "skip_rows": 0}, "sep=;\n", name="bad")
    with pytest.raises(SpecError, match="sep="):
        ingest_specs(ws, [bad], progress=False)


@pytest.mark.parametrize(("name", "code"), [
    ("España", "ES"), ("México", "MX"), ("Méjico", "MX"), ("República Dominicana", "DO"),
    ("Dominican Rep.", "DO"), ("Haïti", "HT"), ("Ayiti", "HT"), ("Brasil", "BR"),
    ("Deutschland", "DE"), ("Türkiye", "TR"), ("Polska", "PL"), ("Česko", "CZ"),
    ("Korea, Republic of", "KR"), ("PRC", "CN"), ("DRC", "CD"), ("Maroc", "MA"),
    ("Misr", "EG"), ("Soomaaliya", "SO"), ("Україна", "UA"), ("中国", "CN"),
    # English names keep their meaning
    ("Niger", "NE"), ("Nigeria", "NG"), ("Dominica", "DM"), ("Congo", "CG"), ("Guinea", "GN"),
])
def test_country_names_as_written_abroad(name, code):
    assert to_alpha2(name) == code


def test_column_names_match_ignoring_case_and_spaces():
    assert match_column("Fecha Nac.", ["FECHA  NAC.", "x"]) == "FECHA  NAC."
    assert match_column("Fecha Nac.", ["FechaNac."]) == "FechaNac."
    assert match_column("Num. A", ["Num.\u00a0A"]) == "Num.\u00a0A"   # a no-break space
    assert match_column("dob", ["DOB", "Dob"]) is None                 # ambiguous


@pytest.mark.parametrize(("field", "raw", "value"), [
    ("latitude", "40,7128", 40.7128), ("longitude", "-74,006", -74.006),
    ("latitude", "40.7128", 40.7128), ("longitude", "1,234", 1.234),
    ("cost", "1.234,50", 1234.5), ("cost", "12,5", 12.5), ("cost", "1,234", 1234.0),
    ("cost", "1,234.50", 1234.5), ("cost", "-3,25", -3.25),
])
def test_decimal_commas(field, raw, value):
    kind = "transport_leg" if field == "cost" else "facility"
    [(got, problem)] = parse_values(KINDS[kind].fields[field], [raw])
    assert problem is None and got == pytest.approx(value)


def test_a_latin1_semicolon_file_with_accented_headers(ws, make_source):
    data = ("Nº Orden;Número A;Fecha de la orden;Nacionalidad\n"
            "O-1;A-012-345-678;01.02.2024;España\n")
    spec = {"source": "o", "kind": "removal_order", "record_id": "Nº Orden",
            "fields": {"a_number": "Número A", "nationality": "nacionalidad",
                       "order_date": {"column": "Fecha de la orden", "format": "%d.%m.%Y"}}}
    [r] = ingest_specs(ws, [make_source(spec, data, encoding="latin-1")], progress=False)
    assert r.accepted == 1 and r.with_issues == 0
    o = rec(ws, "o:O-1")
    assert (o["a_number"], o["nationality"], str(o["order_date"])) == (
        "012345678", "ES", "2024-02-01")


def test_old_mac_line_endings(ws, make_source):
    data = "Export\rid;name;aka\r1;Ana Lima;x\r2;Bo Chen;\r"
    spec = {"source": "p", "kind": "person", "record_id": "id", "skip_rows": 1,
            "fields": {"full_name": "name", "name_aliases": "aka"}}
    [r] = ingest_specs(ws, [make_source(spec, data)], progress=False)
    assert (r.read, r.accepted) == (2, 2)
    assert rec(ws, "p:2")["family_name"] == "Chen"


def test_json_lists_of_names_read_as_aliases(ws, make_source):
    data = ('{"id": "1", "name": "Ana Lima", "aka": ["Ana Maria Lima", "A. Lima"]}\n'
            '{"id": "2", "name": "Bo Chen", "aka": []}\n'
            '{"id": "3", "name": "Li Na", "aka": [{"n": "x"}]}\n')
    spec = {"source": "j", "kind": "person", "record_id": "id",
            "fields": {"full_name": "name", "name_aliases": "aka"}}
    [r] = ingest_specs(ws, [make_source(spec, data, ext="jsonl")], progress=False)
    assert r.accepted == 3
    assert rec(ws, "j:1")["name_aliases"] == "Ana Maria Lima; A. Lima"
    assert rec(ws, "j:2")["name_aliases"] is None
    assert rec(ws, "j:3")["name_aliases"] == '[{"n": "x"}]'


def test_parquet_list_columns_read_as_aliases(ws, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    d = tmp_path / "pq"
    d.mkdir()
    pq.write_table(pa.table({"id": ["1", "2"], "name": ["Ana Lima", "Bo Chen"],
                             "aka": pa.array([["A. Lima", None, "Ana M. Lima"], []],
                                             pa.list_(pa.string()))}), d / "p.parquet")
    (d / "p.yaml").write_text("source: q\nkind: person\npath: p.parquet\nrecord_id: id\n"
                              "fields:\n  full_name: name\n  name_aliases: aka\n",
                              encoding="utf-8")
    [r] = ingest_specs(ws, [d / "p.yaml"], progress=False)
    assert r.accepted == 2
    assert rec(ws, "q:1")["name_aliases"] == "A. Lima; Ana M. Lima"
    assert rec(ws, "q:2")["name_aliases"] is None
