"""The truth check used by the demo and the benchmark, on a crafted truth."""

from __future__ import annotations

import csv
import datetime as dt

from casegraph.leads.build import build_leads
from casegraph.leads.truth import check_against_truth
from casegraph.policy.score import run_scoring
from casegraph.policy.testing import add_person

D = dt.date
ORDER = {"kind": "removal_order", "order_date": D(2024, 1, 10), "appeal_waived": True}


def write_truth(tmp_path, records, persons):
    """truth/records.csv and truth/persons.csv as the generator writes them."""
    tdir = tmp_path / "truth"
    tdir.mkdir()
    for name, rows in (("records.csv", records), ("persons.csv", persons)):
        with (tdir / name).open("w", newline="") as fh:
            csv.writer(fh).writerows(rows)
    return tdir


def loc(street, zip_, when):
    return {"kind": "location", "street_address": street, "postcode": zip_, "observed_on": when,
            "location_kind": "residence"}


def test_check_against_truth(ws, tmp_path):
    add_person(ws, "P-1", [ORDER, loc("1 Main St", "77002", D(2026, 9, 1)),
                           loc("9 Old Rd", "77002", D(2020, 1, 1))])
    add_person(ws, "P-2", [ORDER, loc("5 Elm Ave", "77003", D(2026, 9, 1))])
    # P-3: resolution put a stay-less record set together, but truly the person has a stay
    add_person(ws, "P-3", [ORDER, loc("7 Pine Rd", "77004", D(2026, 9, 1))])
    run_scoring(ws, as_of=D(2026, 11, 1))
    build_leads(ws)
    tdir = write_truth(
        tmp_path,
        [["source", "record_id", "person_id"],
         *[["test", f"{p}-{i}", "T" + p] for p in ("P-1", "P-2", "P-3") for i in range(3)]],
        [["person_id", "eligible", "reason", "street_address", "locality", "region",
          "postcode", "sensitive_site_near", "shared_address"],
         ["TP-1", "true", "", "1 Main Street", "Houston", "TX", "77002", "false", "false"],
         ["TP-2", "true", "", "8 Other St", "Houston", "TX", "77003", "false", "false"],
         ["TP-3", "false", "no_granted_stay", "7 Pine Rd", "Houston", "TX", "77004",
          "false", "false"]])
    rep = check_against_truth(ws, tdir / "persons.csv")
    d = rep.as_dict()
    assert d["leads"] == 3 and d["leads_truly_eligible_pct"] == round(200 / 3, 2)
    assert d["false_leads_by_true_gate"] == {"no_granted_stay": 1}
    assert d["eligibility_agreement_pct"] == round(200 / 3, 2)
    assert d["address_checked"] == 2 and d["address_top1_pct"] == 50.0
    assert d["address_observed_pct"] == 50.0
    assert d["eligible_recall_pct"] == 100.0


def test_truth_counts_addresses_from_another_persons_records(ws, tmp_path):
    other = {**loc("9 Other St", "77002", D(2026, 10, 1)), "link_probability": 0.5}
    strong = {**loc("3 Wrong Ave", "77003", D(2026, 10, 1)), "source": "court"}
    add_person(ws, "P-1", [ORDER, loc("1 Main St", "77002", D(2026, 9, 1)), other, strong])
    run_scoring(ws, as_of=D(2026, 11, 1))
    build_leads(ws)
    tdir = write_truth(
        tmp_path,
        [["source", "record_id", "person_id"], ["test", "P-1-0", "TP-1"],
         ["test", "P-1-1", "TP-1"], ["test", "P-1-2", "TX"], ["court", "P-1-3", "TX"]],
        [["person_id", "eligible", "reason", "street_address", "locality", "region", "postcode"],
         ["TP-1", "true", "", "1 Main Street", "Houston", "TX", "77002"]])
    d = check_against_truth(ws, tdir / "persons.csv").as_dict()["other_persons_address"]
    # 9 Other St: weakly linked -> flagged and capped; 3 Wrong Ave: certainly linked (a
    # resolution error the leads cannot see) -> not flagged, above 50
    assert d == {"candidates": 3, "other_persons": 2, "other_persons_flagged": 1,
                 "other_persons_above_50": 1, "other_persons_top1_above_50": 1,
                 "own_flagged": 0}
