"""Ingest: contract samples, dq issues, quarantine, reconciliation, idempotence, supersede."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casegraph.sources.ingest import ingest_specs

# The shared interface samples (beside the clone); a copy is kept here for when they are not.
CONTRACT = Path(__file__).resolve().parents[3] / "shared" / "contract"
if not (CONTRACT / "people.yaml").exists():
    CONTRACT = Path(__file__).resolve().parent / "contract"


def rec(ws, key):
    rows = ws.query("select * from records where record_key = ? and is_current", [key])
    assert len(rows) == 1, key
    return rows[0]


def test_contract_samples(ws, tmp_path):
    d = tmp_path / "contract"
    shutil.copytree(CONTRACT, d)
    reports = ingest_specs(ws, [d / "people.yaml", d / "orders.yaml", d / "addresses.yaml"],
                           progress=False)
    assert [(r.source, r.read, r.accepted, r.quarantined) for r in reports] == [
        ("sample_people", 3, 3, 0), ("sample_orders", 2, 2, 0), ("sample_addresses", 2, 2, 0)]
    p1 = rec(ws, "sample_people:P1")
    assert (p1["given_name"], p1["middle_name"], p1["family_name"]) == ("MARIA", None,
                                                                       "GARCIA LOPEZ")
    assert p1["birth_date"] == dt.date(1985, 3, 14) and p1["a_number"] == "012345678"
    assert p1["nationality"] == "MX" and p1["full_name_norm"] == "maria garcia lopez"
    o1 = rec(ws, "sample_orders:O1")
    assert o1["a_number"] == "012345678" and o1["birth_date"] == dt.date(1985, 3, 14)
    assert (o1["in_absentia"], o1["appeal_waived"], o1["order_type"]) == (False, True, "removal")
    o2 = rec(ws, "sample_orders:O2")
    assert (o2["in_absentia"], o2["appeal_waived"]) == (False, True)
    a1 = rec(ws, "sample_addresses:A1")
    assert (a1["street_number"], a1["street"], a1["unit"]) == ("1200", "Main St", "Apt 4")
    assert a1["observed_on"] == dt.date(2026, 9, 1) and a1["location_kind"] == "residence"
    assert a1["family_name"] == "Garcia Lopez" and a1["full_name"] == "Maria Garcia Lopez"
    assert json.loads(a1["raw"])["address"] == "1200 Main St Apt 4"
    again = ingest_specs(ws, [d / "people.yaml"], progress=False)
    assert again[0].skipped_identical


ORDERS = (
    "order_no,name,dob,anum,ordered,absentia,kind\n"
    "O1,\"GARCIA LOPEZ, MARIA\",19670231,A-123-456-78,2024-02-01,yes,removal\n"  # bad date
    "O2,Van An Nguyen,19790102,12345,2025-05-05,N,Deportation\n"                # bad A-number
    ",No Id,19800101,,2025-01-01,no,removal\n"                                  # no record id
    "O1,Dup Licate,19800101,,2025-01-01,no,removal\n"                           # duplicate id
    "O5,Missing Date,19800101,,,no,removal\n"                                   # required missing
    "O6,Bad Date,19800101,,2025-13-45,maybe,banish\n"                           # required bad
    "O7,Fine Person,19800101,A 012 345 678,2025-01-01,Y,EXPEDITED\n"
)


def orders_spec(**extra):
    return {"source": "orders", "kind": "removal_order", "record_id": "order_no",
            "fields": {"full_name": "name", "birth_date": {"column": "dob", "format": "%Y%m%d"},
                       "a_number": "anum", "order_date": "ordered", "in_absentia": "absentia",
                       "order_type": "kind"}, **extra}


def test_dq_issues_and_quarantine(ws, make_source):
    [r] = ingest_specs(ws, [make_source(orders_spec(), ORDERS)], progress=False)
    assert (r.read, r.accepted, r.quarantined) == (7, 3, 4) and r.reconciles
    o1 = rec(ws, "orders:O1")
    assert o1["birth_date"] is None and o1["a_number"] == "012345678"
    issues = json.loads(o1["dq_issues"])
    assert issues == [{"field": "birth_date", "value": "19670231",
                       "problem": "not a date in format %Y%m%d"}]
    assert json.loads(o1["raw"])["dob"] == "19670231"
    o2 = rec(ws, "orders:O2")
    assert o2["a_number"] is None and o2["order_type"] == "deportation"
    assert [i["field"] for i in json.loads(o2["dq_issues"])] == ["a_number"]
    assert rec(ws, "orders:O7")["a_number"] == "012345678"
    assert rec(ws, "orders:O7")["order_type"] == "expedited"
    q = {x["row_number"]: x for x in ws.query("select * from quarantine order by row_number")}
    assert set(q) == {3, 4, 5, 6}
    assert "no record id" in q[3]["reason"]
    assert "duplicate record id O1" in q[4]["reason"] and "first at row 1" in q[4]["reason"]
    assert "required field order_date is missing" in q[5]["reason"]
    assert "required field order_date does not parse" in q[6]["reason"]
    assert json.loads(q[6]["raw"])["ordered"] == "2025-13-45"
    b = ws.query("select * from batches")[0]
    assert (b["rows_read"], b["rows_accepted"], b["rows_quarantined"]) == (7, 3, 4)


def test_empty_cells_are_missing_not_errors(ws, make_source):
    csv = "id,name,dob,nat\n1,Jane Doe,,\n2,John Roe,NULL,  \n"
    spec = {"source": "p", "kind": "person", "record_id": "id",
            "fields": {"full_name": "name", "birth_date": "dob", "nationality": "nat"}}
    [r] = ingest_specs(ws, [make_source(spec, csv)], progress=False)
    assert r.accepted == 2 and r.with_issues == 0


def test_idempotent_reingest_and_supersede(ws, make_source, tmp_path):
    spec = {"source": "p", "kind": "person", "record_id": "id",
            "fields": {"full_name": "name", "birth_date": "dob"}}
    path = make_source(spec, "id,name,dob\n1,Ann Lee,1990-01-01\n2,Bo Chan,1991-02-02\n")
    [r1] = ingest_specs(ws, [path], progress=False)
    [r2] = ingest_specs(ws, [path], progress=False)
    assert r2.skipped_identical and r2.batch_id == r1.batch_id
    assert ws.query("select count(*) n from batches")[0]["n"] == 1
    assert ws.query("select count(*) n from records")[0]["n"] == 2
    # a changed file: record 2 changes, 3 is new, 1 is not in the file (stays current)
    (path.parent / "src.csv").write_text("id,name,dob\n2,Bo Chan,1991-02-03\n3,Cy Diaz,1992-03-03\n")
    [r3] = ingest_specs(ws, [path], progress=False)
    assert not r3.skipped_identical and r3.batch_id != r1.batch_id
    assert (r3.accepted, r3.superseded) == (2, 1)
    cur = {r["record_id"]: r for r in ws.query("select * from current_records")}
    assert set(cur) == {"1", "2", "3"} and cur["2"]["birth_date"] == dt.date(1991, 2, 3)
    hist = ws.query("select batch_id, is_current, birth_date from records where record_id = '2' "
                    "order by loaded_at")
    assert [h["is_current"] for h in hist] == [False, True]
    assert hist[0]["birth_date"] == dt.date(1991, 2, 2)
    # a changed mapping (same file) is a change too
    spec2 = dict(spec, fields={"full_name": "name"})
    path2 = make_source(spec2, None)
    [r4] = ingest_specs(ws, [path2], progress=False)
    assert not r4.skipped_identical


def test_name_parts_and_full_name_both_ways(ws, make_source):
    csv = "id,first,middle,last\n1,Maria,Elena,Garcia Lopez\n"
    spec = {"source": "p", "kind": "person", "record_id": "id",
            "fields": {"given_name": "first", "middle_name": "middle", "family_name": "last"}}
    ingest_specs(ws, [make_source(spec, csv)], progress=False)
    r = rec(ws, "p:1")
    assert r["full_name"] == "Maria Elena Garcia Lopez"
    assert r["full_name_norm"] == "maria elena garcia lopez"
    assert r["family_name_norm"] == "garcia lopez"


def test_identifiers_and_codes(ws, make_source):
    csv = ("id,name,phone,email,nat,sex,pp,ssn\n"
           "1,Ann Lee,+1 (713) 555-0100,Ann.Lee@Example.COM,mexico,female,x12-345,123-45-6789\n"
           "2,Bo Chan,12,not-an-email,MEX,U,,\n"
           "3,Cy Diaz,713.555.0101,,Atlantis,q,,\n")
    spec = {"source": "p", "kind": "person", "record_id": "id",
            "fields": {"full_name": "name", "phone": "phone", "email": "email",
                       "nationality": "nat", "sex": "sex", "passport_number": "pp",
                       "national_id": "ssn"}}
    ingest_specs(ws, [make_source(spec, csv)], progress=False)
    a, b, c = rec(ws, "p:1"), rec(ws, "p:2"), rec(ws, "p:3")
    assert (a["phone"], a["email"], a["nationality"], a["sex"]) == (
        "7135550100", "ann.lee@example.com", "MX", "F")
    assert (a["passport_number"], a["national_id"]) == ("X12345", "123456789")
    assert b["nationality"] == "MX" and b["sex"] is None
    assert {i["field"] for i in json.loads(b["dq_issues"])} == {"phone", "email"}
    assert c["phone"] == "7135550101"
    assert {i["field"] for i in json.loads(c["dq_issues"])} == {"nationality", "sex"}


def test_every_kind_ingests(ws, make_source):
    csv = ("id,d,t,n\n1,2026-11-03,2026-11-03T09:00:00,12\n")
    from casegraph.ontology import KINDS, FieldType
    from casegraph.sources.transform import COUNTRY_FIELDS

    specs = []
    for kind, ks in KINDS.items():
        fields = {}
        for f in ks.facts:
            if f.type == FieldType.DATE:
                fields[f.name] = "d"
            elif f.type == FieldType.DATETIME:
                fields[f.name] = "t"
            elif f.type in (FieldType.INT, FieldType.FLOAT):
                fields[f.name] = "n"
            elif f.type == FieldType.BOOL:
                fields[f.name] = {"value": True}
            elif f.choices:
                fields[f.name] = {"value": f.choices[0]}
            elif f.name in COUNTRY_FIELDS:
                fields[f.name] = {"value": "MX"}
            else:
                fields[f.name] = "id"
        specs.append(make_source({"source": f"s_{kind}", "kind": kind, "record_id": "id",
                                  "fields": fields}, csv, name=kind))
    reports = ingest_specs(ws, specs, progress=False)
    bad = [r for r in reports if (r.accepted, r.quarantined, r.with_issues) != (1, 0, 0)]
    assert not bad, ws.query("select source, dq_issues from records where dq_issues <> '[]'")
    leg = rec(ws, "s_transport_leg:1")
    assert leg["departs_at"] == dt.datetime(2026, 11, 3, 9, 0) and leg["seats"] == 12


def test_many_rows_in_chunks(ws, make_source, monkeypatch):
    import casegraph.sources.ingest as ing

    monkeypatch.setattr(ing, "CHUNK_ROWS", 7)
    lines = ["id,name,dob"] + [f"{i},Person {i} Test,2000-01-{(i % 28) + 1:02d}"
                               for i in range(50)] + ["5,Dup,2000-01-01"]
    spec = {"source": "p", "kind": "person", "record_id": "id",
            "fields": {"full_name": "name", "birth_date": "dob"}}
    [r] = ingest_specs(ws, [make_source(spec, "\n".join(lines) + "\n")], progress=False)
    assert (r.read, r.accepted, r.quarantined) == (51, 50, 1)
    assert ws.query("select reason from quarantine")[0]["reason"].startswith(
        "duplicate record id 5")


def test_composite_record_id(ws, make_source):
    csv = "case,seq,name,when,what\nC1,1,Ann Lee,2025-01-01,appeal_filed\n" \
          "C1,2,Ann Lee,2025-03-01,appeal_decided\nC1,,Ann Lee,2025-04-01,stay_granted\n"
    spec = {"source": "ev", "kind": "case_event", "record_id": ["case", "seq"],
            "fields": {"full_name": "name", "event_date": "when", "event_type": "what",
                       "case_number": "case"}}
    [r] = ingest_specs(ws, [make_source(spec, csv)], progress=False)
    assert (r.accepted, r.quarantined) == (2, 1)
    assert {x["record_key"] for x in ws.query("select record_key from records")} == {
        "ev:C1|1", "ev:C1|2"}
    assert "case+seq is empty" in ws.query("select reason from quarantine")[0]["reason"]


_cell = st.one_of(st.just(""), st.text(alphabet="abc ,\"'\n0123456789-/", max_size=12))


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.sampled_from(["", "1", "2", "3", "x y"]), _cell, _cell,
                               _cell), max_size=12))
def test_counts_always_reconcile(tmp_path_factory, rows):
    """Whatever the rows hold: read = accepted + quarantined, ids unique among accepted."""
    import csv
    import io

    from casegraph.workspace import Workspace

    d = tmp_path_factory.mktemp("rec")
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id", "name", "when", "flag"])
    w.writerows(rows)
    (d / "x.csv").write_text(buf.getvalue())
    (d / "x.yaml").write_text(
        "source: x\nkind: removal_order\npath: x.csv\nrecord_id: id\nfields:\n"
        "  full_name: name\n  order_date: when\n  in_absentia: flag\n")
    with Workspace(d / "ws") as ws:
        [r] = ingest_specs(ws, [d / "x.yaml"], progress=False)
        assert r.read == len(rows) == r.accepted + r.quarantined
        ids = [x["record_id"] for x in ws.query("select record_id from records")]
        assert len(ids) == len(set(ids)) == r.accepted
        assert ws.query("select count(*) n from quarantine")[0]["n"] == r.quarantined


def test_one_line_address_fills_unmapped_parts(ws, make_source):
    csv = ('id,name,addr,city\n1,Ann Lee,"1200 Main St Apt 4, Houston, TX 77002",\n'
           '2,Bo Chan,"9 Elm St, Dallas, TX 75201",Fort Worth\n')
    spec = {"source": "p", "kind": "person", "record_id": "id",
            "fields": {"full_name": "name", "street_address": "addr", "locality": "city"}}
    ingest_specs(ws, [make_source(spec, csv)], progress=False)
    a, b = rec(ws, "p:1"), rec(ws, "p:2")
    assert (a["street_address"], a["street_number"], a["street"], a["unit"]) == (
        "1200 Main St Apt 4", "1200", "Main St", "Apt 4")
    assert (a["locality"], a["region"], a["postcode"]) == ("Houston", "TX", "77002")
    assert b["locality"] == "Fort Worth"  # a mapped column wins over the parsed tail
    assert b["street_address_norm"] == "9 elm st"


ISSUE_SPEC = '''source: county_bookings        # unique name of the source
kind: encounter                # one of the kinds above
path: bookings.csv             # relative to the spec file
format: csv                    # csv | parquet | jsonl (default: from the extension)
record_id: booking_no          # column holding the source's own record id
fields:                        # canonical field: source column, or a mapping
  full_name: NAME              # "LAST, FIRST MIDDLE" or "FIRST MIDDLE LAST" parsed into parts
  birth_date: {column: DOB, format: "%m/%d/%Y"}
  encounter_date: {column: BOOKED, format: "%Y-%m-%d"}
  agency: {value: "County Sheriff"}      # a constant
  street_address: ADDRESS      # "123 Main St Apt 4" parsed into number / street / unit
'''


def test_the_issue_spec_verbatim(ws, tmp_path):
    (tmp_path / "bookings.csv").write_text(
        "booking_no,NAME,DOB,BOOKED,ADDRESS\n"
        "B1,\"DOE, JANE ANN\",02/03/1990,2026-11-03,123 Main St Apt 4\n"
        "B2,John Q Public,12/31/1985,2026-11-04,9 Elm St\n")
    (tmp_path / "bookings.yaml").write_text(ISSUE_SPEC)
    [r] = ingest_specs(ws, [tmp_path / "bookings.yaml"], progress=False)
    assert (r.read, r.accepted, r.quarantined, r.with_issues) == (2, 2, 0, 0)
    b1, b2 = rec(ws, "county_bookings:B1"), rec(ws, "county_bookings:B2")
    assert (b1["given_name"], b1["middle_name"], b1["family_name"]) == ("JANE", "ANN", "DOE")
    assert (b2["given_name"], b2["middle_name"], b2["family_name"]) == ("John", "Q", "Public")
    assert b1["birth_date"] == dt.date(1990, 2, 3) and b1["encounter_date"] == dt.date(2026, 11, 3)
    assert (b1["street_number"], b1["street"], b1["unit"]) == ("123", "Main St", "Apt 4")
    assert b1["agency"] == b2["agency"] == "County Sheriff" and b1["kind"] == "encounter"
    assert b1["batch_id"] == r.batch_id and b1["loaded_at"] is not None


def test_notice_when_a_mapped_field_is_always_empty(ws, make_source):
    csv = "id,name,dob,nat\n1,Ann Lee,1980-01-02,\n2,Bo Chan,1981-01-02,\n"
    spec = {"source": "p", "kind": "person", "record_id": "id",
            "fields": {"full_name": "name", "birth_date": "dob", "nationality": "nat"}}
    [r] = ingest_specs(ws, [make_source(spec, csv)], progress=False)
    assert any("no row has a value for nationality" in n for n in r.notices)
    assert not any("full_name" in n for n in r.notices)
