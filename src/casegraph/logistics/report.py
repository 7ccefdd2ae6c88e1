"""The logistics report: occupancy, the plan's summary, and a PNG chart."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from casegraph.logistics.config import LogisticsConfig, load_config
from casegraph.logistics.occupancy import facility_occupancy, occupancy_series, projected_occupancy
from casegraph.logistics.plans import PlanError, get_plan, plan_legs
from casegraph.workspace import Workspace


@dataclass
class LogisticsReport:
    as_of: dt.date
    facilities: list[dict[str, Any]]
    plan: dict[str, Any] | None
    legs: list[dict[str, Any]] = field(default_factory=list)
    chart: Path | None = None

    @property
    def alerts(self) -> list[dict[str, Any]]:
        return [f for f in self.facilities if f["alert"]]


def build_report(ws: Workspace, as_of: dt.date | None = None, plan_id: str | None = None,
                 *, chart: bool = True, history_days: int = 30,
                 config: LogisticsConfig | None = None) -> LogisticsReport:
    """Occupancy on ``as_of``, the plan (default latest) and, with ``chart``, a PNG."""
    cfg = config or load_config(ws)
    as_of = as_of or dt.date.today()
    facilities = facility_occupancy(ws, as_of, cfg)
    try:
        p = get_plan(ws, plan_id)
    except PlanError:
        if plan_id is not None:
            raise
        p = None
    legs = plan_legs(ws, p["plan_id"]) if p else []
    rep = LogisticsReport(as_of, facilities, p, legs)
    if chart:
        rep.chart = write_chart(ws, rep, cfg, history_days)
    return rep


def write_chart(ws: Workspace, rep: LogisticsReport, cfg: LogisticsConfig,
                history_days: int = 30) -> Path:
    """Three panels: detained population over time (and as projected under the plan),
    occupancy rate per facility against the alert threshold, seat use per leg."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 1, figsize=(11, 12))
    # 1. population over time
    ax = axes[0]
    start = rep.as_of - dt.timedelta(days=history_days)
    hist = occupancy_series(ws, start, rep.as_of)
    days = [d for d, _ in next(iter(hist.values()))] if hist else []
    total = [sum(s[i][1] for s in hist.values()) for i in range(len(days))]
    ax.plot(days, total, label="in custody (records)", color="#1f4e79")
    cap = sum(f["capacity"] or 0 for f in rep.facilities)
    if cap:
        ax.axhline(cap, color="grey", linestyle=":", label=f"total capacity {cap:,}")
        ax.axhline(cap * cfg.occupancy_alert_threshold, color="#c0504d", linestyle="--",
                   label=f"alert threshold {cfg.occupancy_alert_threshold:.0%}")
    if rep.plan:
        proj = projected_occupancy(ws, rep.plan["plan_id"])
        if proj:
            pdays = [d for d, _ in next(iter(proj.values()))]
            ptotal = [sum(s[i][1] for s in proj.values()) for i in range(len(pdays))]
            ax.plot(pdays, ptotal, color="#2e7d32", linestyle="--",
                    label=f"projected under {rep.plan['plan_id']}")
    ax.set_title("Detained population")
    ax.set_ylabel("people")
    ax.legend(loc="best", fontsize=8)
    # 2. facilities
    ax = axes[1]
    facs = [f for f in rep.facilities if f["rate"] is not None][:40]
    if facs:
        colors = ["#c0504d" if f["alert"] else "#4f81bd" for f in facs]
        ax.bar(range(len(facs)), [f["rate"] * 100 for f in facs], color=colors)
        ax.set_xticks(range(len(facs)), [f["facility_id"] for f in facs], rotation=90, fontsize=6)
        ax.axhline(cfg.occupancy_alert_threshold * 100, color="#c0504d", linestyle="--")
    ax.set_title(f"Occupancy by facility on {rep.as_of} (red: above "
                 f"{cfg.occupancy_alert_threshold:.0%})")
    ax.set_ylabel("% of capacity")
    # 3. legs
    ax = axes[2]
    if rep.legs:
        legs = sorted(rep.legs, key=lambda r: -r["utilisation"])
        colors = ["#9bbb59" if r["utilisation"] >= cfg.underfill_threshold else
                  ("#bfbfbf" if r["assigned"] == 0 else "#f79646") for r in legs]
        ax.bar(range(len(legs)), [r["utilisation"] * 100 for r in legs], color=colors, width=1.0)
        ax.axhline(cfg.underfill_threshold * 100, color="#f79646", linestyle="--")
        ax.set_xticks([])
        p = rep.plan or {}
        ax.set_title(f"Seats filled per leg, plan {p.get('plan_id')}: "
                     f"{(p.get('seat_utilisation') or 0):.1%} overall (orange: under "
                     f"{cfg.underfill_threshold:.0%}, grey: cancel)")
    else:
        ax.set_title("No transport plan yet")
    ax.set_ylabel("% of seats")
    fig.tight_layout()
    out = ws.artefacts_dir / f"logistics-{rep.as_of.isoformat()}.png"
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out
