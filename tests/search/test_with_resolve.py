"""End to end with the resolution room: a newly ingested record is findable after resolve
and an incremental index update (changed persons only)."""

from __future__ import annotations

import datetime as dt

import pytest

from casegraph.search import service
from tests.factories import insert_records

pipeline = pytest.importorskip("casegraph.resolve.pipeline")


def _rec(source: str, rid: str, **kw: object) -> dict[str, object]:
    return dict(source=source, record_id=rid, kind="person", **kw)


def test_new_record_findable_after_resolve_and_update(ws):
    insert_records(ws, [
        _rec("eid", "1", given_name="Maria", family_name="Garcia Lopez",
             birth_date=dt.date(1987, 3, 4), a_number="012345678", nationality="MX"),
        _rec("eid", "2", given_name="Youssef", family_name="Haddad",
             birth_date=dt.date(1985, 6, 15), a_number="222333444", nationality="MA"),
    ], batch_id="b1")
    pipeline.resolve_workspace(ws, progress=False)
    assert service.reindex(ws) >= 2
    assert service.search(ws, "svetlana ivanova") == []

    insert_records(ws, [
        _rec("ice", "77", given_name="Svetlana", family_name="Ivanova",
             birth_date=dt.date(1991, 5, 5), a_number="555666777", nationality="UA"),
    ], batch_id="b2")
    rep = pipeline.resolve_workspace(ws, progress=False)
    changed = list(rep.changed_person_ids)
    assert changed
    r = service.update_persons(ws, changed)
    assert r["indexed"] >= 1 and r["rebuilt"] == 0
    hits = service.search(ws, "svetlana ivanova")
    assert hits and hits[0].matched.get("name")
    assert service.search(ws, "a:555666777")[0].person_id == hits[0].person_id
    # persons that did not change are still there, untouched
    assert service.search(ws, "yusuf haddad")[0].names[0] == "Youssef Haddad"
