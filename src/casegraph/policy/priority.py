"""Priority score: a sum of named contributions, each stored with the value that earned it.

Weights come from the ``priority`` section of the policy YAML. The score reads the same
:class:`~casegraph.policy.gates.CaseView` as the gates (facts known on the as-of date).
"""

from __future__ import annotations

from dataclasses import dataclass

from casegraph.departures.rules import VERIFIED
from casegraph.policy.config import PriorityPolicy
from casegraph.policy.gates import CaseView

SEVERITY_RANK = {"felony": 3, "misdemeanor": 2, "infraction": 1}


@dataclass(frozen=True, slots=True)
class Contribution:
    factor: str
    value: str
    points: float

    def as_dict(self) -> dict[str, object]:
        return {"factor": self.factor, "value": self.value, "points": self.points}


def _years(days: int) -> float:
    return days / 365.25


def score_priority(cv: CaseView, cfg: PriorityPolicy) -> tuple[float, list[Contribution]]:
    """(score, contributions) for one person; contributions with zero points are left out."""
    out: list[Contribution] = []
    as_of = cv.as_of
    thr = cv.config.fact_link_threshold
    mine = [f for f in cv.known if f["link_probability"] >= thr]   # only confident facts count

    convictions = sorted((f for f in mine if f["kind"] == "conviction"),
                         key=lambda f: (-SEVERITY_RANK.get((f["severity"] or "").lower(), 0),
                                        f["conviction_date"] or as_of, f["record_key"]))
    if convictions:
        counted = convictions[: cfg.max_convictions]
        sev: dict[str, int] = {}
        pts = 0.0
        for f in counted:
            s = (f["severity"] or "unknown").lower()
            sev[s] = sev.get(s, 0) + 1
            pts += cfg.severity_points.get(s, 0.0)
        if pts:
            out.append(Contribution("conviction_severity",
                                    ", ".join(f"{n} {s}" for s, n in sorted(sev.items())), pts))
        cats = [((f["offense_category"] or "").lower(), f) for f in convictions]
        scored = [(cfg.category_points.get(c, 0.0), c) for c, _ in cats if c]
        if scored:
            best = max(scored)
            if best[0]:
                out.append(Contribution("conviction_category", best[1], best[0]))
        longest = max((f["sentence_days"] or 0 for f in convictions), default=0)
        if longest >= 365 and cfg.sentence_points_per_year:
            years = int(longest // 365)
            pts = min(years * cfg.sentence_points_per_year, cfg.sentence_max_points)
            out.append(Contribution("sentence_length", f"longest sentence {longest} days", pts))
        dated = [f["conviction_date"] for f in convictions if f["conviction_date"]]
        if dated and cfg.recency_points:
            age = _years((as_of - max(dated)).days)
            pts = round(cfg.recency_points * 0.5 ** (age / cfg.recency_half_life_years), 2)
            if pts:
                out.append(Contribution("conviction_recency",
                                        f"latest conviction {age:.1f} years ago", pts))

    convicted_charges = {(f["offense_code"] or "").lower() for f in convictions}
    pending = [f for f in mine if f["kind"] == "encounter"
               and (f["charge_status"] or "").lower() == "pending"
               and not ((f["charges"] or "").lower() in convicted_charges and f["charges"])]
    if pending and cfg.pending_charge_points:
        n = min(len(pending), cfg.max_pending_charges)
        out.append(Contribution("pending_charges", f"{len(pending)} pending",
                                n * cfg.pending_charge_points))

    dep = cv.departure
    if dep.status == VERIFIED and dep.returned and cfg.prior_removal_points:
        out.append(Contribution("prior_removal_reentry",
                                f"departed {dep.departure_date}, seen again after",
                                cfg.prior_removal_points))
    orders = [o for o in cv.orders if o.certain]
    if any((o.fact["order_type"] or "").lower() == "reinstated" for o in orders) \
            and cfg.reinstated_order_points:
        out.append(Contribution("reinstated_order", "prior order reinstated",
                                cfg.reinstated_order_points))
    if len(orders) > 1 and cfg.multiple_orders_points:
        out.append(Contribution("multiple_orders", f"{len(orders)} removal orders",
                                cfg.multiple_orders_points))
    active = [o for o in orders if o.active]
    if any(o.fact["in_absentia"] for o in active) and cfg.in_absentia_points:
        out.append(Contribution("in_absentia", "order made in absentia", cfg.in_absentia_points))
    finals = [o.final_date for o in active if o.final and o.final_date]
    if finals and cfg.final_order_points_per_year:
        years = int(_years((as_of - min(finals)).days))
        pts = min(years * cfg.final_order_points_per_year, cfg.final_order_max_points)
        if pts:
            out.append(Contribution("time_since_final_order", f"{years} years", pts))
    return round(sum(c.points for c in out), 2), out
