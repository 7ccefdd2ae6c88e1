"""Identity resolution: crafted pairs, identifier rules, stable ids, incremental runs,
review decisions, explanations, the export, and an accuracy floor on FEBRL1."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from casegraph.resolve.cluster import a_numbers_conflict, cluster
from casegraph.resolve.names import split_full_name, translit_token
from casegraph.resolve.pipeline import assign_ids, resolve_workspace
from casegraph.resolve.review import ReviewError, record_decision
from casegraph.workspace import Workspace
from tests.factories import insert_records, person_of, resolved_workspace

P = "person"


def rec(source: str, rid: str, **kw: object) -> dict[str, object]:
    return {"source": source, "record_id": rid, "kind": kw.pop("kind", P), **kw}


# ---- names ---------------------------------------------------------------------------------

@pytest.mark.parametrize("a,b", [("Mohammed", "Muhammad"), ("Mohamed", "Muhammed"),
                                 ("Youssef", "Yusuf"), ("Yousef", "Jusuf"),
                                 ("Hussein", "Husain"), ("Ahmed", "Ahmad")])
def test_transliteration_key_folds_variants(a: str, b: str) -> None:
    assert translit_token(a.lower()) == translit_token(b.lower())


def test_transliteration_key_keeps_different_names_apart() -> None:
    assert translit_token("maria") != translit_token("marta")
    assert translit_token("ali") != translit_token("omar")


def test_split_full_name() -> None:
    assert split_full_name("GARCIA LOPEZ, MARIA") == ("MARIA", "GARCIA LOPEZ")
    assert split_full_name("Maria Garcia") == ("Maria", "Garcia")
    assert split_full_name(None) == (None, None)


# ---- clustering rules ----------------------------------------------------------------------

def test_a_number_conflict_rule() -> None:
    assert a_numbers_conflict("123456789", "987654321")
    assert not a_numbers_conflict("123456789", "123456788")   # one edit: clerical typo
    assert not a_numbers_conflict("123456789", "123457689")   # transposition
    assert not a_numbers_conflict("123456789", None)


def test_cluster_does_not_chain_twins_through_ambiguous_record() -> None:
    res = cluster(["t1", "t2", "x"], [("t1", "x", 0.97), ("t2", "x", 0.95)],
                  pair_scores={("t1", "t2"): 0.001})
    assert res.cluster_of["t1"] != res.cluster_of["t2"]
    assert res.rejected


def test_cluster_refuses_different_a_numbers_but_allows_one_edit() -> None:
    far = cluster(["a", "b", "c"], [("a", "b", 0.99), ("b", "c", 0.99)],
                  a_number={"a": "123456789", "c": "987654321"})
    assert far.cluster_of["a"] != far.cluster_of["c"]
    near = cluster(["a", "b", "c"], [("a", "b", 0.99), ("b", "c", 0.99)],
                   a_number={"a": "123456789", "c": "123456798"})
    assert near.cluster_of["a"] == near.cluster_of["c"]


def test_assign_ids_keeps_ids_and_records_merges_and_splits() -> None:
    old = {"a": "P-000001", "b": "P-000001", "c": "P-000002"}
    merged = assign_ids({0: ["a", "b", "c"]}, old, 3)
    assert set(merged.person_of.values()) == {"P-000001"}
    assert ("merged", "P-000001", ["P-000002"], 3) in merged.events
    assert "P-000002" in merged.retired
    split = assign_ids({0: ["a"], 1: ["b"], 2: ["c"]}, old, 3)
    assert split.person_of["c"] == "P-000002"
    assert {split.person_of["a"], split.person_of["b"]} == {"P-000001", "P-000003"}
    assert any(e[0] == "split" for e in split.events)


# ---- the pipeline on crafted records ---------------------------------------------------------

CRAFTED = [
    # transliteration + A-number typo (one edit) + day/month swap
    rec("subjects", "S1", given_name="Mohammed", family_name="Al-Hassan", birth_date="1990-03-04",
        a_number="213456789", nationality="SY"),
    rec("orders", "O1", kind="removal_order", order_date="2024-01-01", given_name="Muhammad",
        family_name="Al Hassan", birth_date="1990-04-03", a_number="213456798"),
    # compound surname shortened, full name written family-first
    rec("subjects", "S2", full_name="GARCIA LOPEZ, MARIA", birth_date="1985-03-14",
        a_number="012345678"),
    rec("dmv", "D2", given_name="Maria", family_name="Garcia", birth_date="1985-03-14",
        street_address="1200 Main St", postcode="77002"),
    # given/family swapped, accents
    rec("subjects", "S3", given_name="Van An", family_name="Nguyễn", birth_date="1979-11-02",
        a_number="098765432"),
    rec("bookings", "B3", kind="encounter", encounter_date="2025-01-01", given_name="Nguyen",
        family_name="Van An", birth_date="1979-11-02", a_number="098765432"),
    # twins: same family, birth date and address, different given names and A-numbers
    rec("subjects", "T1", given_name="Hassan", family_name="Haddad", birth_date="2001-06-01",
        a_number="200000001", street_address="5 Elm St", postcode="75201"),
    rec("subjects", "T2", given_name="Hussein", family_name="Haddad", birth_date="2001-06-01",
        a_number="355555552", street_address="5 Elm St", postcode="75201"),
    rec("dmv", "T3", given_name="Hassan", family_name="Haddad", birth_date="2001-06-01",
        street_address="5 Elm St", postcode="75201"),
    # a record with no names at all, only an A-number
    rec("orders", "N1", kind="removal_order", order_date="2024-05-05", a_number="213456789",
        birth_date="1990-03-04"),
    # a facility is not a person
    rec("facilities", "F1", kind="facility", facility_id="F1"),
]


@pytest.fixture()
def crafted(ws: Workspace) -> Workspace:
    """A resolved workspace of the crafted records, for tests that change it."""
    insert_records(ws, CRAFTED)
    resolve_workspace(ws, progress=False)
    return ws


@pytest.fixture(scope="module")
def resolved(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The same, resolved once per module, for tests that only read it."""
    yield from resolved_workspace(tmp_path_factory, "resolved", CRAFTED)


def test_crafted_pairs_link(resolved: Workspace) -> None:
    po = person_of(resolved)
    assert po["subjects:S1"] == po["orders:O1"] == po["orders:N1"]
    assert po["subjects:S2"] == po["dmv:D2"]
    assert po["subjects:S3"] == po["bookings:B3"]
    assert "facilities:F1" not in po


def test_twins_never_merge(resolved: Workspace) -> None:
    po = person_of(resolved)
    assert po["subjects:T1"] != po["subjects:T2"]
    assert po["dmv:T3"] == po["subjects:T1"]


def test_persons_canonical_values_and_provenance(resolved: Workspace) -> None:
    rows = resolved.query("select * from persons p join person_records r using (person_id) "
                         "where r.record_key = 'subjects:S2'")
    p = rows[0]
    assert p["family_name"] == "GARCIA LOPEZ" and p["a_number"] == "012345678"
    prov = json.loads(p["provenance"])
    assert prov["a_number"] == "subjects:S2"
    assert 0 < p["confidence"] <= 1
    n_records = resolved.query("select count(*) n from person_records")[0]["n"]
    assert n_records == len(CRAFTED) - 1


def test_tiny_workspace_uses_priors(ws: Workspace) -> None:
    insert_records(ws, CRAFTED[:3])
    rep = resolve_workspace(ws, progress=False)
    assert rep.records == 3 and not rep.trained
    assert Path(rep.model_path).exists()
    insert_records(ws, CRAFTED[3:8], batch_id="b2")  # the data more than doubles
    rep = resolve_workspace(ws, progress=False)
    assert rep.mode == "full" and "outgrew" in rep.notes[0]


def test_empty_and_nameless_workspace(ws: Workspace) -> None:
    insert_records(ws, [rec("orders", "X1", kind="removal_order", order_date="2024-01-01")])
    rep = resolve_workspace(ws, progress=False)
    assert rep.persons == 1


def test_stable_ids_across_runs_and_incremental_batches(crafted: Workspace) -> None:
    before = person_of(crafted)
    rep = resolve_workspace(crafted, progress=False)
    assert rep.mode == "unchanged" and person_of(crafted) == before
    insert_records(crafted, [rec("mail", "M1", given_name="Youssef", family_name="Al Hassan",
                                 birth_date="1990-03-04", a_number="213456789")], batch_id="b2")
    rep = resolve_workspace(crafted, progress=False)
    assert rep.mode == "incremental" and rep.new_records == 1
    after = person_of(crafted)
    assert {k: after[k] for k in before} == before
    assert after["mail:M1"] == after["subjects:S1"]
    assert after["subjects:S1"] in rep.changed_person_ids
    full = resolve_workspace(crafted, full=True, progress=False)
    assert full.mode == "full" and person_of(crafted) == after


def test_review_decisions_are_honoured(crafted: Workspace) -> None:
    po = person_of(crafted)
    crafted.con.execute("insert into identity_review values ('RV-test', 'subjects:S2', "
                        "'subjects:S3', 0.6, 0.5, 'open', 'x', 'test', null)")
    record_decision(crafted, "RV-test", "same", "analyst1", "same person per case file")
    resolve_workspace(crafted, progress=False)
    po2 = person_of(crafted)
    assert po2["subjects:S2"] == po2["subjects:S3"] == po2["bookings:B3"] == po2["dmv:D2"]
    # and "different" splits a cluster the model made, in full runs too
    record_decision(crafted, "RV-test", "different", "supervisor1", "checked fingerprints")
    resolve_workspace(crafted, full=True, progress=False)
    po3 = person_of(crafted)
    assert po3["subjects:S2"] != po3["subjects:S3"]
    assert po3["subjects:S3"] == po["subjects:S3"]        # the surviving id stays
    assert po3["subjects:S2"] == po3["dmv:D2"]
    events = {e for (e,) in crafted.con.execute("select event from person_events").fetchall()}
    assert {"created", "merged", "split"} <= events
    with pytest.raises(ReviewError):
        record_decision(crafted, "RV-nope", "same", "u", "r")
    with pytest.raises(ReviewError):
        record_decision(crafted, "RV-test", "maybe", "u", "r")


def test_explain_pair(resolved: Workspace, tmp_path: Path) -> None:
    from casegraph.resolve.explain import explain_pair

    e = explain_pair(resolved, "subjects:S1", "orders:O1", chart=tmp_path / "w.html")
    levels = {c["comparison"]: c["level"] for c in e["comparisons"]}
    assert levels["given_name"] == "same transliteration key"
    assert levels["birth_date"] == "day and month swapped"
    assert levels["a_number"] == "one edit or transposition"
    assert e["same_person"] and e["match_probability"] > 0.9
    assert all(isinstance(c["match_weight"], float) for c in e["comparisons"])
    assert (tmp_path / "w.html").read_text().startswith("<!DOCTYPE html>")
    twins = explain_pair(resolved, "subjects:T1", "subjects:T2")
    assert any("A-numbers" in r for r in twins["rules"])


def test_cli_resolve_review_explain_export(crafted: Workspace, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from casegraph.cli import app

    path = str(crafted.path)
    crafted.close()
    runner = CliRunner()
    r = runner.invoke(app, ["resolve", "--workspace", path, "--quiet"])
    assert r.exit_code == 0, r.output
    assert "persons from" in r.output
    out = tmp_path / "links.csv"
    r = runner.invoke(app, ["export", "links", "--workspace", path, "--out", str(out)])
    assert r.exit_code == 0, r.output
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["source", "record_id", "person_id", "match_probability"]
    assert len(rows) == len(CRAFTED)  # header + every person-bearing record
    r = runner.invoke(app, ["review", "--workspace", path])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["review", "decide", "RV-missing", "same", "--reason", "x",
                            "--workspace", path])
    assert r.exit_code == 2
    r = runner.invoke(app, ["explain", "subjects:S1", "orders:O1", "--workspace", path])
    assert r.exit_code == 0 and "given_name" in r.output


# ---- accuracy floor ------------------------------------------------------------------------

def test_febrl1_accuracy_floor(ws: Workspace) -> None:
    from casegraph.resolve.evaluate import load_febrl, predicted_from_workspace, score_clusters

    truth = load_febrl(ws, "febrl1")
    resolve_workspace(ws, progress=False)
    s = score_clusters(predicted_from_workspace(ws), truth)
    assert s.pair_precision >= 0.99
    assert s.b3_f1 >= 0.98
