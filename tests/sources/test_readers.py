"""Readers and malformed input: csv variants, encodings, parquet, jsonl, empty/odd files."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from casegraph.sources.ingest import IngestError, ingest_specs
from casegraph.sources.spec import SpecError

SPEC = {"source": "p", "kind": "person", "record_id": "id",
        "fields": {"full_name": "name", "birth_date": "dob"}}


def names(ws):
    return {r["record_id"]: r["full_name"] for r in ws.query("select * from current_records")}


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_csv_delimiters_sniffed(ws, make_source, delim):
    text = delim.join(["id", "name", "dob"]) + "\n" + delim.join(
        ["1", "\"Doe, Jane\"", "1980-01-02"]) + "\n"
    [r] = ingest_specs(ws, [make_source(SPEC, text)], progress=False)
    assert r.accepted == 1 and names(ws) == {"1": "Doe, Jane"}


def test_csv_bom_and_quoted_newline(ws, make_source):
    text = "\ufeffid,name,dob\r\n1,\"Jane\nDoe\",1980-01-02\r\n"
    [r] = ingest_specs(ws, [make_source(SPEC, text)], progress=False)
    assert r.accepted == 1 and names(ws) == {"1": "Jane Doe"}
    assert json.loads(ws.query("select raw from records")[0]["raw"])["name"] == "Jane\nDoe"


def test_latin1_file_read_with_notice(ws, make_source):
    text = "id,name,dob\n1,José Muñoz,1980-01-02\n2,Zoë Ærø,1981-01-01\n"
    [r] = ingest_specs(ws, [make_source(SPEC, text, encoding="cp1252")], progress=False)
    assert r.accepted == 2 and names(ws)["1"] == "José Muñoz"
    assert any("not UTF-8" in n and "Windows-1252" in n for n in r.notices)
    assert ws.query("select encoding from batches")[0]["encoding"] == "cp1252"
    assert ws.query("select full_name_norm from records where record_id='1'")[0][
        "full_name_norm"] == "jose munoz"


def test_declared_encoding_and_utf16(ws, make_source):
    text = "id,name,dob\n1,Łukasz Żak,1980-01-02\n"
    [r] = ingest_specs(ws, [make_source(SPEC, "\ufeff" + text, encoding="utf-16")],
                       progress=False)
    assert names(ws) == {"1": "Łukasz Żak"} and not r.notices


def test_empty_file_is_a_clear_error(ws, make_source):
    with pytest.raises(SpecError, match="empty"):
        ingest_specs(ws, [make_source(SPEC, "")], progress=False)


def test_header_only(ws, make_source):
    [r] = ingest_specs(ws, [make_source(SPEC, "id,name,dob\n")], progress=False)
    assert (r.read, r.accepted, r.quarantined) == (0, 0, 0)
    assert any("header only" in n for n in r.notices)


def test_malformed_rows_quarantined(ws, make_source):
    text = "id,name,dob\n1,Ann Lee,1980-01-02\n2,Bo,Chan,1980\n3,Cy Diaz,1981-01-01\n"
    [r] = ingest_specs(ws, [make_source(SPEC, text)], progress=False)
    assert (r.read, r.accepted, r.quarantined) == (3, 2, 1)
    q = ws.query("select * from quarantine")[0]
    assert "expected 3 cells, found 4" in q["reason"]
    assert json.loads(q["raw"])["_line"] == "2,Bo,Chan,1980"


def test_over_long_field(ws, make_source):
    long = "x" * 5000
    text = f"id,name,dob\n1,{long},1980-01-02\n2,Bo Chan,1980-01-02\n"
    [r] = ingest_specs(ws, [make_source(SPEC, text)], progress=False)
    assert r.accepted == 2
    row = ws.query("select * from records where record_id = '1'")[0]
    assert row["full_name"] is None
    [issue] = json.loads(row["dq_issues"])
    assert issue["field"] == "full_name" and "over-long value (5000 characters" in issue["problem"]
    assert len(json.loads(row["raw"])["name"]) < 4100
    assert any("longer than 4000" in n for n in r.notices)


def test_unbalanced_quote_is_a_clear_error(ws, make_source, monkeypatch):
    import casegraph.sources.readers as rd

    monkeypatch.setattr(rd, "CSV_BLOCK_BYTES", 1024)
    text = "id,name,dob\n1,\"Ann,1980-01-02\n" + "".join(
        f"{i},Person {i},1980-01-02\n" for i in range(2, 200))
    with pytest.raises(IngestError, match="unbalanced quote"):
        ingest_specs(ws, [make_source(SPEC, text)], progress=False)
    assert ws.query("select count(*) n from batches")[0]["n"] == 0


def test_parquet_typed_columns_and_nesting(ws, make_source, tmp_path):
    table = pa.table({
        "id": pa.array([1, 2], pa.int64()),
        "name": ["Ann Lee", "Bo Chan"],
        "dob": pa.array([dt.date(1980, 1, 2), None], pa.date32()),
        "anum": pa.array([12345678.0, None]),
        "addr": pa.array([{"line": "1 Main St", "city": "Houston"}, None]),
    })
    spec = {"source": "pq", "kind": "person", "record_id": "id",
            "fields": {"full_name": "name",
                       "birth_date": {"column": "dob", "format": "%d/%m/%Y"},
                       "a_number": "anum", "street_address": "addr.line",
                       "locality": "addr.city"}}
    p = make_source(spec, None, ext="parquet")
    pq.write_table(table, p.parent / "src.parquet")
    [r] = ingest_specs(ws, [p], progress=False)
    assert (r.accepted, r.with_issues) == (2, 0)
    row = ws.query("select * from records where record_id = '1'")[0]
    assert row["birth_date"] == dt.date(1980, 1, 2) and row["a_number"] == "012345678"
    assert (row["street_number"], row["street"], row["locality"]) == ("1", "Main St", "Houston")


def test_jsonl_nested_and_bad_lines(ws, make_source):
    lines = [json.dumps({"id": "1", "name": "Ann Lee", "dob": "1980-01-02",
                         "addr": {"city": "Dallas"}}),
             "{not json",
             json.dumps({"id": 2, "name": "Bo Chan", "dob": None, "addr": {"city": None}}),
             "[1, 2]", ""]
    spec = {"source": "j", "kind": "person", "record_id": "id",
            "fields": {"full_name": "name", "birth_date": "dob", "locality": "addr.city"}}
    [r] = ingest_specs(ws, [make_source(spec, "\n".join(lines), ext="jsonl")], progress=False)
    assert (r.read, r.accepted, r.quarantined) == (4, 2, 2)
    assert names(ws) == {"1": "Ann Lee", "2": "Bo Chan"}
    assert ws.query("select locality from records where record_id='1'")[0]["locality"] == "Dallas"


def test_jsonl_clean_file_fast_path(ws, make_source):
    lines = [json.dumps({"id": i, "name": f"P {i} Q", "dob": "1980-01-02"}) for i in range(5)]
    [r] = ingest_specs(ws, [make_source(SPEC, "\n".join(lines) + "\n", ext="jsonl")],
                       progress=False)
    assert (r.read, r.accepted) == (5, 5)


def test_json_array_file(ws, make_source):
    data = json.dumps([{"id": "a", "name": "Ann Lee", "dob": "1980-01-02"}])
    [r] = ingest_specs(ws, [make_source(SPEC, data, ext="json")], progress=False)
    assert r.accepted == 1


def test_glob_path_loads_files_as_one_batch(ws, make_source):
    p = make_source({**SPEC, "path": "part-*.csv"}, None)
    (p.parent / "part-1.csv").write_text("id,name,dob\n1,Ann Lee,1980-01-02\n")
    (p.parent / "part-2.csv").write_text("id,name,dob\n2,Bo Chan,1980-01-02\n")
    [r] = ingest_specs(ws, [p], progress=False)
    assert (r.read, r.accepted) == (2, 2) and len(r.files) == 2


def test_declared_delimiter_tab(ws, make_source):
    text = "id\tname\tdob\n1\tAnn, Lee\t1980-01-02\n"
    [r] = ingest_specs(ws, [make_source({**SPEC, "delimiter": "tab"}, text, ext="txt")],
                       progress=False)
    assert names(ws) == {"1": "Ann, Lee"} and r.accepted == 1


def test_directory_of_specs(ws, make_source):
    p = make_source(SPEC, "id,name,dob\n1,Ann Lee,1980-01-02\n")
    [r] = ingest_specs(ws, [p.parent], progress=False)
    assert r.accepted == 1


def test_skip_rows_before_header(ws, make_source):
    text = "County export 2026-11-01\nconfidential\nid,name,dob\n1,Ann Lee,1980-01-02\n"
    [r] = ingest_specs(ws, [make_source({**SPEC, "skip_rows": 2}, text)], progress=False)
    assert r.accepted == 1 and names(ws) == {"1": "Ann Lee"}
