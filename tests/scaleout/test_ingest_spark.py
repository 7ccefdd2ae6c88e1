"""Ingest on Spark gives the embedded engine's records, quarantine and counts.

The same spec files -- a CSV with malformed rows, duplicate and missing ids, values that
do not parse, a quoted line break and an over-long cell; a pipe-delimited file; CSV
dialects (``sep=`` line, Windows-1252, lone CR line ends, header only); a JSONL file with
a broken line -- are loaded by both engines, twice (the second load changes a
file, so records are superseded). Then a load killed after writing part of a batch must
leave no trace of it in the lake, and the next load must go through.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from casegraph.ontology import RECORDS_COLUMNS
from casegraph.workspace import Workspace
from tests.scaleout.conftest import Pair, have_spark

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]

COLS = [c for c, _ in RECORDS_COLUMNS if c not in ("batch_id", "loaded_at")]
QUERIES = {
    "records": "select " + ", ".join(f'"{c}"' for c in COLS) + " from records",
    "quarantine": "select source, row_number, record_id, reason, raw::varchar from quarantine",
    "batches": "select batch_id, source, kind, rows_read, rows_accepted, rows_quarantined, "
               "rows_superseded, status, file_format, encoding, rows_with_issues, "
               "notices::varchar from batches",
}
LONG = "x" * 4100

CSV_1 = (
    '"ACCOUNT_NO","CUSTOMER_NAME","SERVICE_ADDRESS","CITY","STATE","ZIP","LAST_BILLED",'
    '"PHONE","DOB"\n'
    '"UA1","Verónica García","3116 Dr Martin Cir","Fossil","OR","97830","11/19/2026",,\n'
    '"UA2","Dung Tô","4855 Market Rd Apt 4","Harpersfield","NY","13786","5/7/2018",'
    '"517-976-0685","02/30/1990"\n'
    '"UA3","GARCIA LOPEZ, MARIA","1 Main St, Houston, TX 77002",,,,"not a date",,\n'
    '"UA2","Duplicate Person","9 Elm St","Austin","TX","78701","01/01/2020",,\n'
    ',"No Id","9 Elm St","Austin","TX","78701","01/01/2020",,\n'
    '"UA4","Short Row"\n'
    '"UA5","Too","Many","Cells","TX","1","01/01/2020","1","1","extra"\n'
    '"UA6","Line\nBreak","12 Oak Ave","Reno","NV","89501","12/31/2021","(775) 555-0100",\n'
    f'"UA7","{LONG}","12 Oak Ave","Reno","NV","89501","12/31/2021",,"1/2/1970"\n'
    '"UA8","  Spaced   Name ","  7 Pine Rd ","reno","nv","89501","06/30/2022","12345",'
    '"13/45/1980"\n'
)
CSV_2 = (
    '"ACCOUNT_NO","CUSTOMER_NAME","SERVICE_ADDRESS","CITY","STATE","ZIP","LAST_BILLED",'
    '"PHONE","DOB"\n'
    '"UA1","Verónica García","77 New Rd","Fossil","OR","97830","01/02/2027",,\n'
    '"UA9","New Person","5 Bay St","Miami","FL","33101","03/04/2025",,\n'
)
PSV = (
    "request_no|name|new_address|city|state|zip|effective|phone\n"
    "MF1|Salvador Guzmán|3579 Madison Way Apt 34|West End|NC|27376|2018-01-11|598-870-8434\n"
    "MF2|Jean Pierre|7400 12th Drive|Mission Hills|CA|91345|2024-06-13|\n"
    "MF3|Bad Date|1 A St|B|CA|1|2024-13-45|x\n"
    "MF4|Broken|row\n"
)
JSONL = (
    '{"report_id":"WR1","worker_first_name":"Miguel","worker_last_name":"Flores",'
    '"worker_dob":"1983-09-01","work_street":"15394 Dr Martin Ave","work_city":"Groom",'
    '"report_date":"2026-07-15","hours":40.0}\n'
    '{"report_id":"WR2","worker_first_name":"Ana","worker_last_name":"Ruiz",'
    '"worker_dob":null,"work_street":"1 Main St","work_city":"Waco","report_date":"soon"}\n'
    "this is not json\n"
)
SPECS = {
    "utility.yaml": """
        source: utility
        kind: location
        path: utility.csv
        format: csv
        record_id: ACCOUNT_NO
        fields:
          full_name: CUSTOMER_NAME
          street_address: SERVICE_ADDRESS
          locality: CITY
          region: STATE
          postcode: ZIP
          observed_on: {column: LAST_BILLED, format: '%m/%d/%Y'}
          location_kind: {value: utility}
          phone: PHONE
          birth_date: {column: DOB, format: '%m/%d/%Y'}
        """,
    "mail.yaml": """
        source: mail
        kind: location
        path: mail.psv
        format: csv
        delimiter: '|'
        record_id: request_no
        fields:
          full_name: name
          street_address: new_address
          locality: city
          region: state
          postcode: zip
          observed_on: effective
          location_kind: {value: mail}
          phone: phone
        """,
    "employer.yaml": """
        source: employer
        kind: location
        path: employer.jsonl
        format: jsonl
        record_id: report_id
        fields:
          given_name: worker_first_name
          family_name: worker_last_name
          birth_date: worker_dob
          street_address: work_street
          locality: work_city
          observed_on: report_date
          location_kind: {value: employment}
        """,
}


#: CSV dialects the sources room's reader decides on the driver and Spark then reads:
#: Excel's ``sep=`` line with semicolons, Windows-1252 with CRLF, old-Mac lone CR line ends,
#: a header-only file.
DIALECT_SPEC = """source: {name}
kind: location
path: {name}.csv
format: csv
record_id: ID
fields:
  full_name: NAME
  observed_on: {{column: SEEN, format: '%d.%m.%Y'}}
  location_kind: {{value: utility}}
  street_address: ADDR
"""
DIALECTS = {
    "excelsep": "sep=;\nID;NAME;SEEN;ADDR\n1;Zoë Ünal;1.2.2020;Kärntner Str 1\n"
                "2;B;31.12.1999;x\n3;C\n".encode(),
    "winlatin": "ID;NAME;SEEN;ADDR\r\n1;José Müller;01.02.2020;Straße 5\r\n2;Ana;3.4.2021;\r\n"
                .encode("cp1252"),
    "lonecr": b'ID,NAME,SEEN,ADDR\r1,Ann,01.02.2020,1 Main St\r2,Bo,02.02.2020,"2 Elm, St"\r',
    "headeronly": b"ID,NAME,SEEN,ADDR\n",
}


def _write_sources(d: Path, csv_text: str) -> None:
    d.mkdir(parents=True, exist_ok=True)
    for name, text in SPECS.items():
        (d / name).write_text(textwrap.dedent(text))
    for name, data in DIALECTS.items():
        (d / f"{name}.yaml").write_text(DIALECT_SPEC.format(name=name))
        (d / f"{name}.csv").write_bytes(data)
    (d / "utility.csv").write_text(csv_text, encoding="utf-8")
    (d / "mail.psv").write_text(PSV, encoding="utf-8")
    (d / "employer.jsonl").write_text(JSONL, encoding="utf-8")


def _rows(ws: Workspace) -> dict[str, list[str]]:
    return {t: sorted(map(repr, ws.con.execute(q).fetchall())) for t, q in QUERIES.items()}


@pytest.fixture(scope="module")
def loads(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, list[str]]]]:
    """Both engines' tables after a first load and after a second (changed) load."""
    if not have_spark():
        pytest.skip("no Java runtime for local Spark")
    from casegraph.scaleout.ingest import THREADS_ENV, ingest_on_spark
    from casegraph.sources.ingest import ingest_specs

    os.environ.setdefault("CASEGRAPH_SPARK_MASTER", "local[2]")
    root = tmp_path_factory.mktemp("ingest")
    src = root / "specs"
    out: dict[str, list[dict[str, list[str]]]] = {"duckdb": [], "spark": []}
    for csv_text in (CSV_1, CSV_2):
        _write_sources(src, csv_text)
        for engine, tables in out.items():
            ws = Workspace(root / engine)
            try:
                if engine == "spark":  # two specs at a time: the concurrent path too
                    os.environ[THREADS_ENV] = "2"
                    try:
                        ingest_on_spark(ws, [src], progress=False)
                    finally:
                        os.environ.pop(THREADS_ENV, None)
                else:
                    ingest_specs(ws, [src], progress=False)
                tables.append(_rows(ws))
            finally:
                ws.close()
    return out


@pytest.mark.parametrize("load", [0, 1])
@pytest.mark.parametrize("table", list(QUERIES))
def test_same_tables(loads: dict, load: int, table: str) -> None:
    a, b = loads["duckdb"][load][table], loads["spark"][load][table]
    assert a
    assert a == b


def test_the_sources_exercise_quarantine_and_superseding(loads: dict) -> None:
    first, second = loads["duckdb"]
    reasons = "\n".join(first["quarantine"])
    for why in ("duplicate record id UA2", "no record id", "malformed row: expected 9 cells",
                "required field observed_on does not parse", "not valid JSON"):
        assert why in reasons
    assert "value(s) longer than 4000 characters" in "\n".join(first["batches"])
    assert any("'utility-b2'" in b and ", 1, " in b for b in second["batches"])  # superseded


def test_synthetic_agency_ingest_identical(pair: Pair) -> None:
    """The full parity run's ingest (conftest: the CLI with --engine spark) agrees too."""
    a, b = _rows(pair.duckdb), _rows(pair.spark)
    assert len(a["records"]) > 1000
    assert a == b


def test_lake_is_the_system_of_record(pair: Pair) -> None:
    from casegraph.scaleout.lake import committed_batches, import_sources_from_lake

    batches = committed_batches(pair.spark)
    assert len(batches) == len(pair.spark.query("select batch_id from batches"))
    before = _rows(pair.spark)
    import_sources_from_lake(pair.spark)  # the serving copy is exactly the lake's content
    assert _rows(pair.spark) == before


KILLED = """
import sys
from casegraph.scaleout.ingest import ingest_on_spark
from casegraph.workspace import Workspace
ingest_on_spark(Workspace(sys.argv[1]), [sys.argv[2]], progress=False)
"""


def test_crash_mid_batch_leaves_no_partial_batch(tmp_path: Path) -> None:
    if not have_spark():
        pytest.skip("no Java runtime for local Spark")
    from casegraph.scaleout.ingest import KILL_STAGED_ENV, ingest_on_spark
    from casegraph.scaleout.lake import committed_batches, sources_uri

    src = tmp_path / "specs"
    _write_sources(src, CSV_1)
    for spec in src.glob("*.yaml"):
        if spec.name != "utility.yaml":
            spec.unlink()
    ws_path = tmp_path / "ws"
    env = {**os.environ, KILL_STAGED_ENV: "1", "CASEGRAPH_SPARK_MASTER": "local[1]",
           "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-c", KILLED, str(ws_path), str(src)], env=env,
                          capture_output=True, timeout=600, check=False)
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    ws = Workspace(ws_path)
    try:
        assert committed_batches(ws) == []
        lake = Path(sources_uri(ws))
        assert list((lake / "_staging").iterdir()), "the killed load had staged records"
        reports, _ = ingest_on_spark(ws, [src], progress=False)
        assert [r.batch_id for r in reports] == ["utility-b1"]
        assert not list((lake / "_staging").iterdir())
        assert committed_batches(ws) == ["utility-b1"]
        assert reports[0].reconciles
        n = ws.query("select count(*) as n from records")[0]["n"]
        assert n == reports[0].accepted
    finally:
        ws.close()
