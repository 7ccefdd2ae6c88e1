"""The Spark engine runs the very facts query the embedded engine runs (no Spark needed).

``scaleout.facts.facts_sql_for`` rebuilds the query the policy room builds inside
``iter_person_facts``; if the policy room changes how it calls ``_facts_sql`` (a new flag,
a new table), this test says so before the engines drift apart.
"""

from __future__ import annotations

import pytest

from casegraph.policy import facts as pfacts
from casegraph.scaleout.facts import facts_sql_for
from casegraph.workspace import Workspace


@pytest.mark.parametrize("tables", [(), ("identity_decisions",), ("identity_links",),
                                    ("identity_decisions", "identity_links")])
@pytest.mark.parametrize("person_ids", [None, ["P-1"]])
def test_same_facts_query(ws: Workspace, monkeypatch: pytest.MonkeyPatch,
                          tables: tuple[str, ...], person_ids: list[str] | None) -> None:
    for t in ("persons", "person_records", "current_records", *tables):
        ws.con.execute(f"create table {t} (x integer)")
    seen: list[str] = []
    monkeypatch.setattr(pfacts, "_rows", lambda _ws, sql, params=None: (
        seen.append(sql), iter(()))[1])
    list(pfacts.iter_person_facts(ws, kinds=pfacts.GATE_KINDS, person_ids=person_ids))
    where = ("and pr.person_id in (select person_id from _cg_pids)"
             if person_ids is not None else "")
    assert seen[-1] == facts_sql_for(ws, where, pfacts.GATE_KINDS)
