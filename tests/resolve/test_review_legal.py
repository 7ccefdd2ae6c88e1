"""Trust rules of resolve's outputs: contradictions inside a person, the identity links kept
for the gates, and a review queue ranked by legal consequence."""

from __future__ import annotations

import datetime as dt

from casegraph.policy.testing import add_person
from casegraph.resolve.outputs import (
    DECIDES,
    LINKS_TABLE,
    PAIRS_TABLE,
    _contradictions_sql,
    _fetch,
    _write_review,
)
from casegraph.resolve.prepare import INPUT_TABLE
from casegraph.resolve.review import list_queue
from casegraph.resolve.schema import ResolveConfig, ensure_tables

D = dt.date


def _input(ws, rows):
    ws.con.execute(f"create or replace table {INPUT_TABLE} (unique_id varchar, a_number varchar,"
                   " dob date, given_display varchar, family_display varchar)")
    for k, a, d in rows:
        ws.con.execute(f"insert into {INPUT_TABLE} values (?, ?, ?, null, null)", [k, a, d])


def _person(ws, pid, values):
    keys = add_person(ws, pid, [{"kind": "person"} for _ in values])
    return [(k, a, d) for k, (a, d) in zip(keys, values, strict=True)]


def _contradicted(ws):
    return {pid: why for pid, _l, _r, why in _fetch(
        ws, _contradictions_sql("select distinct person_id from person_records"))}


def test_contradictions_need_values_no_clerical_error_explains(ws):
    ensure_tables(ws)
    rows = []
    # a placeholder and a year typo around one true birth date: consistent
    rows += _person(ws, "P-1", [(None, D(1985, 2, 17)), (None, D(1985, 1, 1)),
                                (None, D(1986, 2, 17))])
    rows += _person(ws, "P-2", [(None, D(1976, 10, 26)), (None, D(1991, 3, 4))])
    rows += _person(ws, "P-3", [("024241430", None), ("024241403", None)])   # transposition
    rows += _person(ws, "P-4", [("024241430", None), ("099999999", None)])
    rows += _person(ws, "P-5", [(None, D(1984, 3, 4)), (None, D(1984, 4, 3))])  # day/month
    _input(ws, rows)
    got = _contradicted(ws)
    assert set(got) == {"P-2", "P-4"}
    assert "birth dates" in got["P-2"] and "A-numbers" in got["P-4"]
    # a reviewer who says the two records are one person settles it
    ws.con.execute("insert into identity_decisions values ('test:P-2-0', 'test:P-2-1', 'same', "
                   "'rev', 'checked', '2026-10-01', null)")
    assert set(_contradicted(ws)) == {"P-4"}


def _pairs(ws, rows):
    ws.con.execute(f"""create or replace table {PAIRS_TABLE} (l varchar, r varchar,
        model_p double, mw double, must boolean, anum_conflict boolean, given_veto boolean,
        p double)""")
    for l, r, mp, p, anum in rows:
        l, r = sorted((l, r))
        ws.con.execute(f"insert into {PAIRS_TABLE} values (?, ?, ?, 0, false, ?, false, ?)",
                       [l, r, mp, anum, p])


def test_review_queue_puts_what_decides_eligibility_first(ws):
    ensure_tables(ws)
    a = add_person(ws, "P-A", [{"kind": "person"},
                               {"kind": "removal_order", "order_date": D(2025, 1, 1)}])
    b = add_person(ws, "P-B", [{"kind": "status", "status_type": "naturalized"}])
    c = add_person(ws, "P-C", [{"kind": "location", "street_address": "1 Main St"}])
    d = add_person(ws, "P-D", [{"kind": "person"}])
    e = add_person(ws, "P-E", [{"kind": "person"}])
    f = add_person(ws, "P-F", [{"kind": "location", "street_address": "2 Main St"}])
    _input(ws, [(k, None, None) for k in a + b + c + d + e + f])
    _pairs(ws, [(a[1], b[0], 0.45, 0.45, False),     # a status record may be P-A's
                (a[0], e[0], 0.97, 0.001, True),     # P-A's registration has a twin
                (a[0], c[0], 0.60, 0.60, False),     # an address observation: other
                (d[0], f[0], 0.50, 0.50, False),     # nobody with an order: other
                (d[0], e[0], 0.10, 0.10, False)])    # below the band: nothing
    all_keys = a + b + c + d + e + f
    _write_review(ws, ResolveConfig(review_other_max=1), "run-1",
                  "select unnest(" + repr(all_keys) + ") as unique_id", [])
    items = list_queue(ws, limit=10)
    reasons = [i["reason"] for i in items]
    assert len(items) == 3, reasons
    assert all(r.startswith(f"{DECIDES} of P-A") for r in reasons[:2])
    assert "status record" in " ".join(reasons[:2])
    assert "registration" in " ".join(reasons[:2])
    # the one other item allowed touches a person with an order
    assert {items[2]["record_key_l"], items[2]["record_key_r"]} == {a[0], c[0]}
    links = _fetch(ws, f"select record_key_l, record_key_r from {LINKS_TABLE}")
    assert len(links) == 4       # every cross-person link in the band, for the gates
