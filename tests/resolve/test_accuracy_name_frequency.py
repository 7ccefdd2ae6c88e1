"""Evidence that looks stronger than it is: a name rare *in this workspace* (its term
frequency is floored), a 1 January birth date (a placeholder). A name rare in the workspace is not
proof of identity.

A name seen once or twice among a workspace's records (a family name typed into the
given-name box, a rare spelling, a small workspace) would otherwise get a weight that
grows with the size of the workspace (1 / count-in-workspace), while the population the
records come from holds more people of that name than the workspace shows. Two records
sharing nothing but such a name must not score like two records sharing an identifier.
"""

from __future__ import annotations

import math

from splink import DuckDBAPI, Linker

from casegraph.resolve import model as rmodel
from casegraph.resolve.prepare import INPUT_TABLE, build_input
from casegraph.workspace import Workspace
from tests.factories import insert_records


def _tf_levels() -> list[dict[str, object]]:
    return [lv for comp in rmodel.comparisons(tf=1.0) for lv in comp["comparison_levels"]
            if lv.get("tf_adjustment_column")]


def test_every_name_tf_level_has_the_floor() -> None:
    lvs = _tf_levels()
    assert lvs
    assert all(lv.get("tf_minimum_u_value") == rmodel.NAME_TF_FLOOR for lv in lvs)
    assert 0 < rmodel.NAME_TF_FLOOR < 0.01


def _name_weight(ws: Workspace, n_others: int) -> float:
    """Match weight of the name comparisons for two records that share only a name
    ("sharma priya", written family-first) seen nowhere else among ``n_others`` records."""
    rows = [{"source": "utility", "record_id": "U1", "kind": "person",
             "given_name": "Sharma", "family_name": "Priya"},
            {"source": "bookings", "record_id": "B1", "kind": "person",
             "given_name": "Sharma", "family_name": "Priya", "birth_date": "1990-01-02"}]
    rows += [{"source": "filler", "record_id": f"F{i}", "kind": "person",
              "given_name": f"Given{i}", "family_name": f"Family{i % 97}",
              "birth_date": f"19{50 + i % 40}-0{1 + i % 9}-1{i % 9}"} for i in range(n_others)]
    insert_records(ws, rows)
    build_input(ws)
    api = DuckDBAPI(connection=ws.con)
    s = rmodel.settings(1e-3, explain=True, tf=1.0)
    linker = Linker(api.register(INPUT_TABLE), s, log_level=None)
    for c in rmodel.TF_COLUMNS:
        linker.table_management.compute_tf_table(c)
    ws.con.execute(f"create or replace table _pair as select * from {INPUT_TABLE} "
                   "where unique_id in ('utility:U1', 'bookings:B1')")
    preds = linker.inference.predict_within(
        api.register("_pair"), blocking_rules_to_generate_predictions=["1=1"],
        warning_mode="never")
    rec = preds.as_record_list()[0]
    preds.drop_table_from_database_and_remove_from_cache()
    return sum(rec[f"mw_{c}"] + rec[f"mw_tf_adj_{c}"] for c in ("given_name", "family_name"))


def test_a_name_unique_in_a_big_workspace_weighs_no_more_than_the_floor(
        ws: Workspace) -> None:
    w = _name_weight(ws, 2500)
    # the most two exact names can weigh: m over the floored frequency, per name
    cap = sum(math.log2(m / rmodel.NAME_TF_FLOOR) for m in (0.70, 0.75))
    # 2 of 2,502 records carry the name: below the floor, so the floor decides the weight
    assert 2 / 2502 < rmodel.NAME_TF_FLOOR
    assert abs(w - cap) < 1e-6


# ---- birth date: 1 January stands in for an unknown date --------------------------------

def test_same_jan_1_birth_date_is_not_an_exact_date(ws: Workspace) -> None:
    from tests.resolve.test_accuracy_levels import levels, rec

    lv = levels(ws, rec("employer", "W1", full_name="Linh Le", birth_date="1985-01-01"),
                rec("border", "B1", full_name="Linh Thanh Le", birth_date="1985-01-01"))
    assert lv["birth_date"] == "exact, but a Jan-1 placeholder"


def test_a_real_exact_date_stays_exact(ws: Workspace) -> None:
    from tests.resolve.test_accuracy_levels import levels, rec

    lv = levels(ws, rec("employer", "W1", full_name="Linh Le", birth_date="1985-01-02"),
                rec("border", "B1", full_name="Linh Le", birth_date="1985-01-02"))
    assert lv["birth_date"] == "exact"
