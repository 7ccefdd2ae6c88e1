"""The synthetic agency: deterministic, consistent with its truth, valid specs, real noise."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from pathlib import Path

import duckdb
import numpy as np
import pytest
import yaml

from casegraph.ontology import KINDS, NON_PERSON_KINDS, OFFICIAL_DEPARTURE_CHANNELS
from casegraph.synth import generate
from casegraph.synth.names import VARIANTS
from casegraph.synth.story import (
    GATES,
    SCENARIO_EXPECT,
    evaluate_gates,
    make_population,
)

AS_OF = "2026-11-15"


def _digest(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(d.rglob("*")) if p.is_file() and p.name != "meta.json"}


def _specs(out: Path) -> list[dict]:
    return [yaml.safe_load(p.read_text(encoding="utf-8")) | {"_path": p}
            for p in sorted(out.glob("*.yaml"))]


def _read(spec: dict, out: Path) -> list[dict]:
    """Rows of a source file, read independently of the ingest room (DuckDB readers)."""
    path = (out / spec["path"]).as_posix()
    con = duckdb.connect()
    if spec["format"] == "parquet":
        rel = con.sql(f"select * from read_parquet('{path}')")
    elif spec["format"] == "jsonl":
        rel = con.sql(f"select * from read_json('{path}', format='newline_delimited')")
    else:
        enc = spec.get("encoding", "utf-8")
        text = Path(path).read_bytes().decode(enc)
        rows = list(csv.DictReader(text.splitlines(), delimiter=spec.get("delimiter", ",")))
        return [{k: (v if v != "" else None) for k, v in r.items()} for r in rows]
    cols = rel.columns
    return [dict(zip(cols, r)) for r in rel.fetchall()]


def _csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# ---- determinism ---------------------------------------------------------------------

def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    a = generate(250, tmp_path / "a", seed=5, as_of=AS_OF)
    generate(250, tmp_path / "b", seed=5, as_of=AS_OF)
    c = generate(250, tmp_path / "c", seed=6, as_of=AS_OF)
    da, db, dc = _digest(tmp_path / "a"), _digest(tmp_path / "b"), _digest(tmp_path / "c")
    assert da == db
    assert da != dc
    assert a.people == 250 and a.as_of == AS_OF
    assert c.records > 0


def test_as_of_moves_the_story(tmp_path: Path) -> None:
    generate(100, tmp_path / "a", seed=5, as_of="2026-01-01")
    rows = _csv(tmp_path / "a" / "truth" / "persons.csv")
    legs = _csv(tmp_path / "a" / "data" / "transport_legs.csv")
    assert all(dt.date.fromisoformat(r["birth_date"]) < dt.date(2008, 1, 1) for r in rows)
    for leg in legs:
        when = dt.datetime.fromisoformat(leg["departs_at"]).date()
        assert dt.date(2026, 1, 1) < when <= dt.date(2026, 1, 15)


# ---- specs ---------------------------------------------------------------------------

def test_specs_use_the_contract_and_the_ontology(agency) -> None:
    out, _ = agency
    specs = _specs(out)
    assert len(specs) >= 15
    names = [s["source"] for s in specs]
    assert len(set(names)) == len(names)
    formats = {s["format"] for s in specs}
    assert formats == {"csv", "jsonl", "parquet"}
    assert any(s.get("encoding") == "latin-1" for s in specs)
    for s in specs:
        assert set(s) - {"_path"} <= {"source", "kind", "path", "format", "record_id", "fields",
                                     "encoding", "delimiter", "description"}
        kind = KINDS[s["kind"]]
        assert (out / s["path"]).exists()
        for canon, m in s["fields"].items():
            assert canon in kind.fields, (s["source"], canon)
            if isinstance(m, dict):
                assert set(m) <= {"column", "format", "value"} and m
                if "format" in m:
                    assert kind.fields[canon].type.value in ("date", "datetime")
                if "value" in m and kind.fields[canon].choices:
                    assert m["value"] in kind.fields[canon].choices
        for req in kind.required:
            assert req in s["fields"], (s["source"], req)


def test_spec_columns_exist_in_files(agency) -> None:
    out, _ = agency
    for s in _specs(out):
        rows = _read(s, out)
        assert rows, s["source"]
        header = set(rows[0])
        assert s["record_id"] in header
        for m in s["fields"].values():
            col = m if isinstance(m, str) else m.get("column")
            if col:
                assert col in header, (s["source"], col)


def test_specs_load_with_the_ingest_spec_loader(agency) -> None:
    spec_mod = pytest.importorskip("casegraph.sources.spec")
    out, _ = agency
    for p in sorted(out.glob("*.yaml")):
        spec = spec_mod.load_spec(p)
        assert spec.kind in KINDS


def test_enum_values_are_canonical(agency) -> None:
    out, _ = agency
    for s in _specs(out):
        kind = KINDS[s["kind"]]
        rows = _read(s, out)
        for canon, m in s["fields"].items():
            choices = kind.fields[canon].choices
            col = m if isinstance(m, str) else m.get("column")
            if not choices or not col:
                continue
            seen = {r[col] for r in rows if r[col] is not None}
            assert seen <= set(choices), (s["source"], canon, seen - set(choices))


def test_latin1_file_is_latin1(agency) -> None:
    out, _ = agency
    spec = next(s for s in _specs(out) if s.get("encoding") == "latin-1")
    raw = (out / spec["path"]).read_bytes()
    raw.decode("latin-1")
    if any(b > 127 for b in raw):
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")


# ---- truth ---------------------------------------------------------------------------

def test_every_record_is_in_truth_and_every_truth_record_exists(agency) -> None:
    out, summary = agency
    truth = {(r["source"], r["record_id"]): r["person_id"]
             for r in _csv(out / "truth" / "records.csv")}
    defects = _csv(out / "truth" / "defects.csv")
    quarantined = {(d["source"], d["record_id"]) for d in defects
                   if d["expected"] == "quarantine" and "duplicate" not in d["problem"]}
    seen = set()
    for s in _specs(out):
        rows = _read(s, out)
        ids = [r[s["record_id"]] for r in rows]
        if s["kind"] in NON_PERSON_KINDS:
            assert not any((s["source"], i) in truth for i in ids)
            continue
        for i in ids:
            key = (s["source"], i)
            if i is None or key in quarantined:
                continue
            assert key in truth, key
            seen.add(key)
    assert seen == set(truth)
    persons = {r["person_id"] for r in _csv(out / "truth" / "persons.csv")}
    assert set(truth.values()) <= persons
    assert len(persons) == summary.people
    assert summary.person_records == len(truth)


def test_deliberate_defects_are_documented(agency) -> None:
    out, summary = agency
    defects = _csv(out / "truth" / "defects.csv")
    assert len(defects) == summary.deliberate_defects >= 6
    assert {d["expected"] for d in defects} == {"dq_issue", "quarantine"}
    problems = " ".join(d["problem"] for d in defects)
    assert "19670231" in problems and "02/31/1967" in problems
    assert any(d["record_id"] == "" for d in defects)  # a row without a record id


def test_truth_eligibility_matches_the_records(agency) -> None:
    out, _ = agency
    persons = {r["person_id"]: r for r in _csv(out / "truth" / "persons.csv")}
    by_person: dict[str, set[str]] = {}
    for r in _csv(out / "truth" / "records.csv"):
        by_person.setdefault(r["person_id"], set()).add(r["source"])
    specs = {s["source"]: s for s in _specs(out)}
    assert all(by_person.get(pid) for pid in persons), "every person has a record"
    for pid, p in persons.items():
        srcs = by_person[pid]
        if p["eligible"] == "true":
            assert "eoir_orders" in srcs
            assert p["reason"] == "" and p["failing_gates"] == ""
            assert p["in_custody"] == "false" and p["departed"] != "verified"
        else:
            assert p["reason"] in GATES
            assert p["failing_gates"].split(";")[0] == p["reason"]
        if p["departed"] == "verified":
            assert srcs & {"exit_manifests", "partner_land_exits", "consular_verifications"}
        if p["departed"] == "claimed":
            assert "self_departure_app" in srcs
        if p["in_custody"] == "true":
            assert "detention_roster" in srcs and p["facility_id"].startswith("FAC-")
        if p["reason"] in ("no_protected_application",):
            assert "uscis_status" in srcs
        assert SCENARIO_EXPECT[p["scenario"]] == p["reason"], pid
    # custody: an open detention row per person in custody
    det = _read(specs["detention_roster"], out)
    det_truth = {r["record_id"]: r["person_id"] for r in _csv(out / "truth" / "records.csv")
                 if r["source"] == "detention_roster"}
    open_ = {det_truth[r["detainee_no"]] for r in det if r["book_out"] is None}
    assert open_ == {pid for pid, p in persons.items() if p["in_custody"] == "true"}


def test_verified_departures_use_official_channels(agency) -> None:
    out, _ = agency
    persons = _csv(out / "truth" / "persons.csv")
    chans = {p["departure_channel"] for p in persons if p["departed"] == "verified"}
    assert chans <= set(OFFICIAL_DEPARTURE_CHANNELS) and len(chans) >= 4
    assert any(p["departed"] == "claimed" for p in persons)


def test_legal_mix_covers_every_gate_and_scenario(agency) -> None:
    out, summary = agency
    persons = _csv(out / "truth" / "persons.csv")
    reasons = {p["reason"] for p in persons}
    assert reasons == set(GATES) | {""}
    assert {p["scenario"] for p in persons} == set(SCENARIO_EXPECT)
    assert 0.3 < summary.eligible / summary.people < 0.7
    events = _read(next(s for s in _specs(out) if s["source"] == "eoir_case_events"), out)
    types = {e["event_type"] for e in events}
    assert types == set(KINDS["case_event"].fields["event_type"].choices)


def test_gate_evaluation_is_independent_of_scenario_labels() -> None:
    pop = make_population(4000, dt.date(2026, 11, 15), seed=3)
    gates = evaluate_gates(pop)
    first = np.full(pop.n, "", dtype=object)
    for g in reversed(GATES):
        first = np.where(~gates[g], g, first)
    from casegraph.synth.story import SCENARIO_NAMES

    names = np.array(SCENARIO_NAMES, dtype=object)[pop.scenario]
    expected = np.array([SCENARIO_EXPECT[s] for s in names], dtype=object)
    assert (first == expected).all()
    # no story date sits on a boundary the gate rules could read two ways
    f, asof = pop.facts, pop.as_of
    for key in ("stay_end", "stay_ended", "appeal_decided", "mtr_decided", "departure_date"):
        d = f[key][~np.isnat(f[key])]
        assert not (np.abs((d - asof).astype(int)) < 2).any(), key
    od = f["order_date"][~np.isnat(f["order_date"])]
    assert not (np.abs((od + np.timedelta64(30, "D") - asof).astype(int)) < 2).any()


def test_true_current_address_is_the_latest_residence(agency) -> None:
    out, _ = agency
    persons = {r["person_id"]: r for r in _csv(out / "truth" / "persons.csv")}
    rid = {r["record_id"]: r["person_id"] for r in _csv(out / "truth" / "records.csv")
           if r["source"] == "mail_forwarding"}
    spec = next(s for s in _specs(out) if s["source"] == "mail_forwarding")
    latest: dict[str, dict] = {}
    for r in _read(spec, out):
        pid = rid[r["request_no"]]
        if pid not in latest or r["effective"] > latest[pid]["effective"]:
            latest[pid] = r
    agree = sum(latest[p]["zip"] == persons[p]["postcode"] for p in latest)
    assert agree / len(latest) > 0.6
    import zipcodes

    sample = list(persons.values())[:50]
    for p in sample:
        z = zipcodes.matching(p["postcode"])
        assert z and z[0]["state"] == p["region"] and z[0]["city"] == p["locality"]


# ---- noise ---------------------------------------------------------------------------

def test_noise_kinds_are_present(agency) -> None:
    out, summary = agency
    for k in ("compound_shortened", "given_variant", "family_variant", "typo", "name_order_swap",
              "dob_day_month_swap", "dob_placeholder", "dob_year_typo", "dob_missing",
              "a_number_typo", "a_number_transposed", "a_number_missing", "twins", "namesakes",
              "movers", "shared_address"):
        assert summary.noise.get(k, 0) > 0, k
    persons = {r["person_id"]: r for r in _csv(out / "truth" / "persons.csv")}
    truth = {r["record_id"]: r["person_id"] for r in _csv(out / "truth" / "records.csv")
             if r["source"] == "eoir_orders"}
    spec = next(s for s in _specs(out) if s["source"] == "eoir_orders")
    variants = swaps = shortened = placeholders = 0
    all_variants = {v for vs in VARIANTS.values() for v in vs}
    for r in _read(spec, out):
        pid = truth.get(r["order_id"])
        if pid is None:
            continue
        p = persons[pid]
        first = (r["respondent_first"] or "").split(" ")[0]
        variants += first in all_variants and first != p["given_name"]
        swaps += r["respondent_last"] == p["given_name"] and p["given_name"] != p["family_name"]
        shortened += (" " in p["family_name"] and r["respondent_last"] == p["family_name"].split()[0])
        placeholders += str(r["respondent_dob"] or "").endswith("-01-01") and \
            not p["birth_date"].endswith("-01-01")
    assert variants and swaps and shortened and placeholders


def test_twins_and_namesakes_are_distinct_people(agency) -> None:
    out, _ = agency
    persons = {r["person_id"]: r for r in _csv(out / "truth" / "persons.csv")}
    twins = [(p, persons[p["twin_of"]]) for p in persons.values() if p["twin_of"]]
    assert twins
    for a, b in twins:
        assert a["family_name"] == b["family_name"] and a["birth_date"] == b["birth_date"]
        assert a["given_name"] != b["given_name"]
        assert sum(x != y for x, y in zip(a["a_number"], b["a_number"])) >= 2
        assert a["street_address"] == b["street_address"]
    names = [(p, persons[p["namesake_of"]]) for p in persons.values() if p["namesake_of"]]
    assert names
    for a, b in names:
        assert (a["given_name"], a["family_name"]) == (b["given_name"], b["family_name"])
        assert a["birth_date"][:4] == b["birth_date"][:4] and a["birth_date"] != b["birth_date"]
        assert a["a_number"] != b["a_number"]


def test_logistics_data_is_usable(agency) -> None:
    out, _ = agency
    specs = {s["source"]: s for s in _specs(out)}
    fac = _read(specs["facilities"], out)
    legs = _read(specs["transport_legs"], out)
    sites = _read(specs["sensitive_sites"], out)
    persons = _csv(out / "truth" / "persons.csv")
    fac_ids = {f["facility_id"] for f in fac}
    assert all(p["facility_id"] in fac_ids for p in persons if p["in_custody"] == "true")
    assert sum(int(f["capacity"]) for f in fac) >= sum(p["in_custody"] == "true" for p in persons)
    airports = {r["code"] for r in _csv(out / "truth" / "airports.csv")}
    assert all(leg["origin"] in airports | fac_ids for leg in legs)
    modes = {leg["mode"] for leg in legs}
    assert "charter_air" in modes and "commercial_air" in modes
    removable_nat = {p["nationality"] for p in persons
                     if p["in_custody"] == "true" and p["removable"] == "true"}
    assert removable_nat & {leg["destination_country"] for leg in legs}
    assert {s["site_kind"] for s in sites} >= {"school", "hospital", "place_of_worship"}
    assert any(p["sensitive_site_near"] == "true" for p in persons)


# ---- with the ingest room ------------------------------------------------------------

def test_generated_sources_ingest_with_only_the_deliberate_quarantines(tmp_path: Path) -> None:
    ingest = pytest.importorskip("casegraph.sources.ingest")
    from casegraph.workspace import Workspace

    out = tmp_path / "agency"
    generate(400, out, seed=2, as_of=AS_OF)
    defects = _csv(out / "truth" / "defects.csv")
    with Workspace(tmp_path / "ws") as ws:
        reports = ingest.ingest_specs(ws, sorted(out.glob("*.yaml")), progress=False)
        quarantined = sum(r.quarantined for r in reports)
        assert quarantined == sum(d["expected"] == "quarantine" for d in defects)
        assert all(r.read == r.accepted + r.quarantined for r in reports)
        issues = ws.query("select source, record_id, dq_issues::varchar as dq from records "
                          "where dq_issues is not null and json_array_length(dq_issues) > 0")
        expected = {(d["source"], d["record_id"]) for d in defects if d["expected"] == "dq_issue"}
        assert {(r["source"], r["record_id"]) for r in issues} == expected
        n = ws.query("select count(*) as n from records")[0]["n"]
        truth = _csv(out / "truth" / "records.csv")
        non_person = ws.query("select count(*) as n from records where kind in "
                              "('facility', 'transport_leg', 'sensitive_site')")[0]["n"]
        assert n - non_person == len(truth)


def test_cli_synth(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from casegraph.cli import app

    res = CliRunner().invoke(app, ["synth", "--people", "60", "--out", str(tmp_path / "o"),
                                   "--seed", "3", "--as-of", AS_OF])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o" / "truth" / "persons.csv").exists()
    assert "60 people" in res.output
    bad = CliRunner().invoke(app, ["synth", "--people", "60", "--out", str(tmp_path / "p"),
                                   "--as-of", "15/11/2026"])
    assert bad.exit_code != 0


@pytest.mark.slow
def test_scale_100k(tmp_path: Path) -> None:
    s = generate(100_000, tmp_path / "big", seed=1, as_of=AS_OF)
    assert s.records > 500_000


def test_nobody_is_seen_at_home_after_a_verified_departure(agency) -> None:
    out, _ = agency
    persons = {r["person_id"]: r for r in _csv(out / "truth" / "persons.csv")}
    owner = {(r["source"], r["record_id"]): r["person_id"]
             for r in _csv(out / "truth" / "records.csv")}
    checked = 0
    for s in _specs(out):
        date_field = {"location": "observed_on", "encounter": "encounter_date",
                      "conviction": "conviction_date",
                      "detention": "book_in_date"}.get(s["kind"])
        if not date_field:
            continue
        m = s["fields"][date_field]
        col, fmt = (m, "%Y-%m-%d") if isinstance(m, str) else (m["column"], m.get("format", "%Y-%m-%d"))
        for r in _read(s, out):
            pid = owner.get((s["source"], r[s["record_id"]]))
            p = persons.get(pid or "")
            if not p or p["departed"] != "verified" or r[col] is None:
                continue
            seen = r[col] if isinstance(r[col], dt.date) else dt.datetime.strptime(r[col], fmt).date()
            assert seen <= dt.date.fromisoformat(p["departure_date"]), (s["source"], pid)
            checked += 1
    assert checked > 0


def test_output_does_not_depend_on_the_python_hash_seed(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    code = ("from casegraph.synth import generate; import sys; "
            "generate(120, sys.argv[1], seed=4, as_of='2026-11-15')")
    generate(120, tmp_path / "here", seed=4, as_of="2026-11-15")
    other = "1" if os.environ.get("PYTHONHASHSEED") != "1" else "2"
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "there")], check=True,
                   env={**os.environ, "PYTHONHASHSEED": other})
    assert _digest(tmp_path / "here") == _digest(tmp_path / "there")


def test_tiny_agency_writes_no_empty_sources_and_ingests(tmp_path: Path) -> None:
    out = tmp_path / "tiny"
    (out / "data").mkdir(parents=True)
    (out / "consular_verifications.yaml").write_text("stale: spec\n")
    s = generate(8, out, seed=8, as_of=AS_OF)
    assert s.sources == len(list(out.glob("*.yaml"))) < 19
    for spec in _specs(out):
        assert (out / spec["path"]).stat().st_size > 0
        assert _read(spec, out), spec["source"]
    ingest = pytest.importorskip("casegraph.sources.ingest")
    from casegraph.workspace import Workspace

    with Workspace(tmp_path / "ws") as ws:
        reports = ingest.ingest_specs(ws, sorted(out.glob("*.yaml")), progress=False)
        assert all(r.read == r.accepted + r.quarantined for r in reports)


def test_shared_addresses_are_shared_by_unrelated_people(agency) -> None:
    out, _ = agency
    persons = _csv(out / "truth" / "persons.csv")
    by_addr: dict[tuple, list[dict]] = {}
    for p in persons:
        by_addr.setdefault((p["street_address"], p["postcode"]), []).append(p)
    shared = [p for p in persons if p["shared_address"] == "true"]
    assert shared
    for p in shared:
        group = by_addr[(p["street_address"], p["postcode"])]
        unrelated = {q["person_id"] for q in group if not q["twin_of"] or q["person_id"] < q["twin_of"]}
        assert len(unrelated) == int(p["address_persons"]) >= 2


def test_supervisor_flags_match_the_stories(agency) -> None:
    out, _ = agency
    persons = _csv(out / "truth" / "persons.csv")
    expect = {"petition_no_stay": "petition_for_review_pending",
              "other_motion_pending": "motion_to_reopen_pending",
              "departed_claimed": "claimed_departure"}
    seen = set()
    for p in persons:
        for f in filter(None, p["flags"].split(";")):
            seen.add(f)
            assert expect.get(p["scenario"]) == f, (p["person_id"], p["scenario"], f)
        if p["scenario"] in ("other_motion_pending", "departed_claimed"):
            assert expect[p["scenario"]] in p["flags"]
    assert seen == set(expect.values())
