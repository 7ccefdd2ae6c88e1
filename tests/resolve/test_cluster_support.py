"""Cluster merges weigh contrary evidence, not missing evidence.

A person's records carry different fields: a change-of-address request and a utility
account at a new address share the address and phone with each other and only the name
with the person's booking. Clustering must let such a side cluster join when one of its
records links well (the other records' weak pairs are missing evidence), but still keep
apart two people whose records contradict each other (a different birth date), and
never let one link chain two clusters whose other records have no good link across.
"""

from __future__ import annotations

import math

import duckdb

from casegraph.resolve.cluster import cluster
from casegraph.resolve.evidence import contradiction_sql, level_weights
from casegraph.resolve.pipeline import pairs_select_sql
from casegraph.resolve.schema import ResolveConfig

# main: three records of one person (licence L at the new address, booking B, order O);
# side: a mail request M and a utility account U at the new address (phone shared)
MAIN = [("B", "L", 0.999), ("B", "O", 0.999), ("L", "O", 0.999)]
SIDE = [("M", "U", 0.999)]


def _run(cross: dict[tuple[str, str], float], against: set[tuple[str, str]] | None = None):
    scores = {**{(l, r): p for l, r, p in MAIN + SIDE}, **cross}
    edges = [(l, r, p) for (l, r), p in scores.items() if p >= 0.9]
    return cluster(["B", "L", "O", "M", "U"], edges, pair_scores=scores, against=against)


def test_side_cluster_joins_through_its_records_best_links() -> None:
    # M and U each share the address with the licence (strong); with the booking and the
    # order they share only a common name (weak): the average over every cross pair is
    # 0.39, yet each side record has a good link in
    cross = {("L", "M"): 0.99, ("L", "U"): 0.98, ("B", "M"): 0.1, ("M", "O"): 0.1,
             ("B", "U"): 0.1, ("O", "U"): 0.1}
    res = _run(cross, against=set())
    assert len({res.cluster_of[k] for k in "BLOMU"}) == 1


def test_one_good_link_does_not_chain_records_without_their_own() -> None:
    # only U links well; M's best pair into the main cluster is weak: support
    # (0.95 + 0.02) / 2 < 0.5, so M and U stay out together
    cross = {("L", "U"): 0.95, ("B", "M"): 0.02, ("B", "U"): 0.02}
    res = _run(cross, against=set())
    assert res.cluster_of["U"] != res.cluster_of["L"]
    assert res.cluster_of["M"] == res.cluster_of["U"]


def test_improbable_pair_vetoes_only_when_it_is_evidence_against() -> None:
    cross = {("L", "M"): 0.99, ("L", "U"): 0.98, ("B", "M"): 0.001, ("B", "U"): 0.3}
    # B-M improbable only because the two share nothing but a name: no veto
    assert len({_run(cross, against=set()).cluster_of[k] for k in "BLOMU"}) == 1
    # B-M carries a different birth date: the merge is refused and reported
    res = _run(cross, against={("M", "B")})
    assert res.cluster_of["M"] != res.cluster_of["B"]
    assert any("clearly differs" in why for *_x, why in res.rejected)
    # without an explicit set, every pair below veto_below counts as against (as before)
    assert _run(cross).cluster_of["M"] != _run(cross).cluster_of["B"]


# ---- what counts as contrary evidence --------------------------------------------------------

def _level(label: str, m: float, u: float) -> dict[str, object]:
    return {"label_for_charts": label, "m_probability": m, "u_probability": u}


MODEL = {"probability_two_random_records_match": 1e-4, "comparisons": [
    {"output_column_name": "given_name", "comparison_levels": [
        {"is_null_level": True, "sql_condition": "x"},
        _level("exact", 0.9, 0.01), _level("different", 0.004, 0.98)]},
    {"output_column_name": "birth_date", "comparison_levels": [
        {"is_null_level": True, "sql_condition": "x"},
        _level("exact", 0.9, 0.0003), _level("within a year", 0.0005, 0.07),
        _level("different", 0.004, 0.93)]},
    {"output_column_name": "address", "comparison_levels": [
        {"is_null_level": True, "sql_condition": "x"},
        _level("same", 0.5, 0.0005), _level("different", 0.6, 0.999)]},
]}


def test_level_weights_follow_splink_numbering() -> None:
    w = level_weights(MODEL)
    assert set(w["birth_date"]) == {0, 1, 2}
    assert w["birth_date"][2] == math.log2(0.9 / 0.0003)   # first non-null level highest
    assert w["birth_date"][0] == math.log2(0.004 / 0.93)   # the else level is 0


def _contra(g_given: int, g_dob: int, g_addr: int) -> bool:
    sql = contradiction_sql(MODEL, 0.01)
    row = duckdb.sql(f"select {sql} from (select {g_given} gamma_given_name, "
                     f"{g_dob} gamma_birth_date, {g_addr} gamma_address) x").fetchall()
    return bool(row[0][0])


def test_contrary_evidence_is_a_disagreeing_identifying_field_not_a_name() -> None:
    assert _contra(1, 0, 0)        # same name, birth dates years apart: two people
    assert _contra(1, 1, 1)        # within a year, and a shared address does not cancel it
    assert not _contra(0, -1, 0)   # names differ, nothing else known: not contrary
    assert not _contra(1, -1, 0)   # only the address differs (people move)
    assert not _contra(1, 2, -1)   # same birth date
    assert contradiction_sql(None, 0.01) == "true"   # no model: as before


def test_pairs_table_carries_contra() -> None:
    con = duckdb.connect()
    con.execute("""create table preds as select 'a' unique_id_l, 'b' unique_id_r,
        0.001 match_probability, -10.0 match_weight, null::varchar a_number_l,
        null::varchar a_number_r, 0 gamma_birth_date, 2 gamma_given_name,
        -1 gamma_a_number, -1 gamma_passport, -1 gamma_fbi, -1 gamma_national_id,
        1 gamma_address""")
    rows = con.execute(pairs_select_sql(ResolveConfig(), "preds", model=MODEL)).fetchall()
    cols = [d[0] for d in con.description]
    assert rows[0][cols.index("contra")] is True
