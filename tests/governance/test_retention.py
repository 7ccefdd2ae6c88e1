"""Retention: purge expired records per source, audited."""

from __future__ import annotations

import datetime as dt

from casegraph.governance.audit import list_events, verify
from casegraph.governance.retention import apply_retention, plan
from casegraph.store.testing import seed_warehouse


def test_retention_purges_expired_sources_only(gws) -> None:
    seed_warehouse(gws)  # records loaded 2026-01-01
    gws.set_section("retention", {"sources": {"dmv": 100, "eoir": 10000}})
    assert plan(gws)["dmv"] == 100 and plan(gws)["cbp"] is None
    as_of = dt.datetime(2026, 6, 1)
    dry = apply_retention(gws, actor="adm", role="admin", as_of=as_of, dry_run=True)
    assert dry.purged == {"dmv": 2}
    assert gws.query("select count(*) as n from records where source='dmv'")[0]["n"] == 2
    rep = apply_retention(gws, actor="adm", role="admin", as_of=as_of)
    assert rep.purged == {"dmv": 2}
    assert sorted(rep.record_keys) == ["dmv:5", "dmv:9"]
    assert gws.query("select count(*) as n from records where source='dmv'")[0]["n"] == 0
    assert gws.query("select count(*) as n from records where source='eoir'")[0]["n"] == 2
    assert gws.query("select count(*) as n from person_records where source='dmv'")[0]["n"] == 0
    evs, _ = list_events(gws, action="retention.purge")
    assert len(evs) == 1
    assert sorted(evs[0].object_ids) == ["dmv:5", "dmv:9"]
    assert evs[0].detail["purged"] == {"dmv": 2}
    assert verify(gws).ok


def test_retention_without_config_purges_nothing(gws) -> None:
    seed_warehouse(gws)
    rep = apply_retention(gws, actor="adm", role="admin")
    assert rep.total == 0
