"""Departure classification and reporting.

Departure records reach persons through resolution like every record (``person_records``).
:func:`classify_departures` writes ``departure_status`` (one row per person with departure
evidence; ``returned`` marks later sightings in the country) using the same rules as gate 7 (:mod:`casegraph.departures.rules`);
:func:`departure_report` counts departures by month, channel and nationality and draws a
chart of departures over time.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table

from casegraph.departures.rules import CLAIMED, VERIFIED, DepartureState, departure_state
from casegraph.ontology import OFFICIAL_DEPARTURE_CHANNELS
from casegraph.policy.facts import iter_person_facts, require_resolution
from casegraph.policy.score import latest_run, run_policy
from casegraph.workspace import Workspace

DDL = """create table if not exists departure_status (
    person_id varchar, status varchar, channel varchar, departure_date date, evidence json,
    returned boolean, claims json, as_of date, classified_at timestamp)"""

_DEP_KINDS = ("departure", "encounter", "detention", "conviction", "location")


def ensure_tables(ws: Workspace) -> None:
    ws.con.execute(DDL)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@dataclass
class DepartureReport:
    as_of: dt.date
    persons: int = 0
    by_status: Counter = field(default_factory=Counter)
    by_channel: Counter = field(default_factory=Counter)
    returned: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "persons": self.persons,
                "by_status": dict(self.by_status), "by_channel": dict(self.by_channel),
                "returned": self.returned}

    def __rich__(self) -> Table:
        t = Table(title=f"Departures as of {self.as_of}: {self.persons:,} persons with "
                        "departure evidence")
        t.add_column("status / channel")
        t.add_column("persons", justify="right")
        for s in (VERIFIED, CLAIMED):
            t.add_row(f"[bold]{s}[/]", f"{self.by_status.get(s, 0):,}")
        t.add_section()
        for c, n in sorted(self.by_channel.items(), key=lambda x: -x[1]):
            t.add_row(c, f"{n:,}")
        t.add_section()
        t.add_row("verified, but seen in the country after (gate 7: needs review)",
                  f"{self.returned:,}")
        return t


#: An engine deciding the departure state of the given persons: ``(person_id, state)`` pairs.
DecideDepartures = Callable[[Workspace, Sequence[str], dt.date, float],
                            Iterable[tuple[str, DepartureState]]]


def decide_in_process(ws: Workspace, person_ids: Sequence[str], as_of: dt.date, thr: float
                      ) -> Iterator[tuple[str, DepartureState]]:
    """Departure states decided in this process (the embedded engine)."""
    for pf in iter_person_facts(ws, kinds=_DEP_KINDS, person_ids=person_ids):
        yield pf.person_id, departure_state(pf.facts, as_of, thr)


def classify_departures(ws: Workspace, as_of: dt.date | None = None, *,
                        decide_all: DecideDepartures | None = None) -> DepartureReport:
    """Classify every person with departure evidence on ``as_of`` (default today).

    ``decide_all`` is the engine that applies :func:`departure_state` (default: in process;
    the Spark engine runs it on the executors); storing the result is the same either way.
    """
    require_resolution(ws)
    ensure_tables(ws)
    as_of = as_of or _today()
    thr = run_policy(ws, latest_run(ws)).policy.gates.fact_link_threshold
    rep = DepartureReport(as_of)
    rows = []
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    pids = [r[0] for r in ws.con.execute(
        "select distinct person_id from person_records where kind = 'departure'").fetchall()]
    if pids:
        for pid, st in (decide_all or decide_in_process)(ws, pids, as_of, thr):
            if st.status is None:
                continue
            rep.returned += st.status == VERIFIED and st.returned
            rows.append((pid, st.status, st.channel, st.departure_date,
                         json.dumps(list(st.evidence)), st.returned, json.dumps(list(st.claims)),
                         as_of, now))
            rep.persons += 1
            rep.by_status[st.status] += 1
            rep.by_channel[st.channel] += 1
    con = ws.con
    con.execute("begin transaction")
    try:
        con.execute("delete from departure_status")
        if rows:
            con.executemany("insert into departure_status values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            rows)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return rep


@dataclass
class DepartureSummary:
    """Departure events (records linked to persons) over time."""

    as_of: dt.date | None
    events: int = 0
    by_month: dict[str, Counter] = field(default_factory=dict)   # month -> channel counts
    by_channel: Counter = field(default_factory=Counter)
    by_nationality: Counter = field(default_factory=Counter)
    chart: Path | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat() if self.as_of else None, "events": self.events,
                "by_month": {m: dict(c) for m, c in self.by_month.items()},
                "by_channel": dict(self.by_channel),
                "by_nationality": dict(self.by_nationality),
                "chart": str(self.chart) if self.chart else None}

    def tables(self) -> list[Table]:
        out = []
        t = Table(title=f"Departures by month ({self.events:,} departure records)")
        t.add_column("month")
        t.add_column("verified", justify="right")
        t.add_column("claimed", justify="right")
        for m in sorted(self.by_month):
            c = self.by_month[m]
            ver = sum(n for ch, n in c.items() if ch in OFFICIAL_DEPARTURE_CHANNELS)
            t.add_row(m, f"{ver:,}", f"{c.get('self_report', 0):,}")
        out.append(t)
        t = Table(title="By channel")
        t.add_column("channel")
        t.add_column("records", justify="right")
        for ch, n in self.by_channel.most_common():
            t.add_row(ch, f"{n:,}")
        out.append(t)
        t = Table(title="By nationality")
        t.add_column("nationality")
        t.add_column("records", justify="right")
        for nat, n in self.by_nationality.most_common(20):
            t.add_row(nat, f"{n:,}")
        out.append(t)
        return out

    def __rich__(self) -> Table:
        t = Table.grid(padding=1)
        for x in self.tables():
            t.add_row(x)
        if self.chart:
            t.add_row(f"chart: {self.chart}")
        return t


def departure_report(ws: Workspace, as_of: dt.date | None = None, chart: bool = True
                     ) -> DepartureSummary:
    """Count linked departure records by month, channel and nationality; draw a PNG chart."""
    require_resolution(ws)
    rows = ws.query("""
        select r.record_key, r.departure_date, r.channel,
               coalesce(p.nationality, r.nationality, 'unknown') as nationality
        from person_records pr join current_records r on r.record_key = pr.record_key
        left join persons p on p.person_id = pr.person_id
        where r.kind = 'departure' and r.departure_date is not null
        order by r.departure_date""")
    s = DepartureSummary(as_of)
    for r in rows:
        if as_of is not None and r["departure_date"] > as_of:
            continue
        m = r["departure_date"].strftime("%Y-%m")
        s.by_month.setdefault(m, Counter())[r["channel"] or "unknown"] += 1
        s.by_channel[r["channel"] or "unknown"] += 1
        s.by_nationality[r["nationality"]] += 1
        s.events += 1
    if chart:
        s.chart = _draw(s, ws.artefacts_dir / "departures_by_month.png")
    return s


def _draw(s: DepartureSummary, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    months = sorted(s.by_month)
    channels = [c for c, _ in s.by_channel.most_common()]
    fig, ax = plt.subplots(figsize=(10, 4.5), dpi=100)
    bottom = [0] * len(months)
    for ch in channels:
        vals = [s.by_month[m].get(ch, 0) for m in months]
        ax.bar(range(len(months)), vals, bottom=bottom, label=ch,
               hatch="//" if ch == "self_report" else None)
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    step = max(1, len(months) // 12)
    ax.set_xticks(range(0, len(months), step))
    ax.set_xticklabels(months[::step], rotation=45, ha="right")
    ax.set_ylabel("departure records")
    ax.set_title("Departures by month and channel (self_report = claimed, hatched)")
    if channels:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
