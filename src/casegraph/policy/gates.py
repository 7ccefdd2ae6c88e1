"""The legal gates: one definition per gate, pure functions of a person's facts and a date.

``evaluate(person_facts, as_of, config)`` returns one :class:`GateResult` per gate, in the
order of DESIGN.md. Only a person who passes every gate is eligible. Every date comparison
uses ``as_of``; a fact dated after ``as_of`` is treated as not yet known, so a past decision
replays exactly.

Conventions (documented in docs/policy.md):

- **Appeal window.** An order dated D may be appealed through D + ``appeal_window_days``
  (30) *inclusive*. On day D + 30 the order is not final and removal is automatically
  stayed; it becomes final on D + 31 if no appeal was filed. Orders made in absentia, with
  the appeal waived, or of type ``expedited`` / ``reinstated`` are final on their date.
- **Stays.** A granted stay covers its ``stay_end_date`` inclusive (a stay ending on the
  as-of date still blocks). A ``stay_ended`` event dated D lifts the stay from D on.
- **Uncertain links.** A record is *certain* only when linked at or above
  ``fact_link_threshold`` by resolution or by a case number not contradicted by resolution
  (:data:`CERTAIN_VIAS`); anything else is uncertain. Uncertain evidence can block or route to
  ``needs_review``, never enable: blocking evidence on it gives ``needs_review`` (never a
  silent pass), a removal order on it cannot by itself make anyone eligible, and it never
  *ends* a blocker -- an uncertain decision does not settle a pending appeal, motion or
  petition, and an uncertain ``stay_ended`` does not lift a stay.
- **Flags.** Some facts do not block but must reach the supervisor: a pending petition for
  review or motion to reopen without a stay, a self-reported (claimed) departure. They ride
  on the passing gate's ``flags``. A verified departure followed by later sightings in the
  country (possible re-entry, or stale records) is conflicting evidence: ``needs_review``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from casegraph.departures.rules import CLAIMED, VERIFIED, DepartureState, departure_state
from casegraph.ontology import PROTECTED_STATUS_TYPES
from casegraph.policy.config import GatesPolicy
from casegraph.policy.facts import RIVAL_KIND, Fact, PersonFacts, fact_date

PASS, FAIL, REVIEW = "pass", "fail", "needs_review"
VERDICTS = (PASS, FAIL, REVIEW)

CITIZENSHIP_TYPES = ("us_citizen", "naturalized")
LATER_STATUS_TYPES = ("lawful_permanent_resident", "tps")
REMOVED_ENCOUNTER_TYPES = ("removal", "removed")

#: Links that can make a fact certain (with a probability at or above the threshold). The
#: fallback links (``a_number``, ``name_dob``) and a case-number link contradicted by
#: resolution (``case_number_conflict``) are always uncertain.
CERTAIN_VIAS = ("resolution", "case_number")


@dataclass(frozen=True, slots=True)
class GateResult:
    """One gate's verdict for one person, with the records that decided it."""

    gate: str
    verdict: str
    reason: str
    evidence: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------
# The case as of a date: orders with the events that apply to them
# ---------------------------------------------------------------------------------------
@dataclass(slots=True)
class OrderState:
    """One removal order as it stands on the as-of date."""

    fact: Fact
    certain: bool
    events: list[Fact] = field(default_factory=list)
    active: bool = True                 # not vacated / reopened / overturned (certainly)
    fell_by: Fact | None = None         # the event that certainly ended it
    doubtful_fall: list[Fact] = field(default_factory=list)   # uncertain events that would end it
    unknown_outcomes: list[Fact] = field(default_factory=list)
    doubtful_decisions: list[Fact] = field(default_factory=list)  # uncertain, settle nothing
    appeal_pending: Fact | None = None
    appeal_decided: Fact | None = None   # decided with the order standing
    motion_pending: Fact | None = None
    petition_pending: Fact | None = None
    relief: list[Fact] = field(default_factory=list)
    final: bool = False
    final_date: dt.date | None = None
    window_end: dt.date | None = None    # last day an appeal may be filed (inclusive)

    @property
    def key(self) -> str:
        return self.fact["record_key"]

    @property
    def date(self) -> dt.date:
        return self.fact["order_date"]

    final_at_once: bool = False          # in absentia, appeal waived, or a final-at-once type


@dataclass(slots=True)
class CaseView:
    """A person's facts on ``as_of``, pre-sorted for the gates and the priority score."""

    person: PersonFacts
    as_of: dt.date
    config: GatesPolicy
    known: list[Fact]
    orders: list[OrderState]
    events: list[Fact]

    _departure: DepartureState | None = None

    @property
    def departure(self) -> DepartureState:
        """The person's departure standing on the as-of date (computed once)."""
        if self._departure is None:
            self._departure = departure_state(self.known, self.as_of,
                                              self.config.fact_link_threshold)
        return self._departure

    def certain(self, f: Fact) -> bool:
        """Certain: linked by resolution (or an uncontradicted case number) at or above the
        threshold. Only certain facts may clear a blocker or make a person eligible."""
        return is_certain(f, self.config.fact_link_threshold)

    @property
    def active_orders(self) -> list[OrderState]:
        return [o for o in self.orders if o.active]


def is_certain(f: Fact, threshold: float) -> bool:
    """A fact linked at or above ``threshold`` by a link that can be certain (CERTAIN_VIAS)."""
    return (f["link_probability"] >= threshold
            and (f.get("linked_via") or "resolution") in CERTAIN_VIAS)


def _attach(event: Fact, orders: list[OrderState]) -> OrderState | None:
    """The order an event belongs to: same case number, else the latest order on or before it.

    Certain orders are preferred: an uncertainly linked order must not take a (certain)
    vacatur or appeal away from the person's certain order and so leave that one final."""
    cn = event["case_number"]
    if cn:
        same = [o for o in orders if o.fact["case_number"] == cn]
        same = [o for o in same if o.certain] or same
        if same:
            return same[-1]
    pool = [o for o in orders if o.certain] or orders
    before = [o for o in pool if o.date <= event["event_date"]]
    if before:
        return before[-1]
    return pool[0] if pool else None


def _pending(current: Fact | None, new: Fact, sure: bool, cv: CaseView) -> Fact | None:
    """The filing that keeps something pending: a later uncertain filing never replaces a
    certain one (it would turn a certain blocker into a mere review)."""
    if current is not None and not sure and cv.certain(current):
        return current
    return new


def _settle_filing(o: OrderState, attr: str, e: Fact, sure: bool, res: str,
                   fall: Callable[[], None]) -> None:
    """A decision on a pending appeal, motion or petition (``attr``) with outcome ``res``.

    Only a certain decision clears the pending filing; an uncertain one can only make the
    order fall (block) or be recorded as doubtful (review), never enable.
    """
    if res == "unknown":
        o.unknown_outcomes.append(e)
        if sure:
            setattr(o, attr, None)
    elif not sure:
        if res == "falls":
            fall()
        else:
            o.doubtful_decisions.append(e)
    else:
        setattr(o, attr, None)
        if res == "falls":
            fall()


def _outcome(e: Fact, cfg: GatesPolicy) -> str:
    out = (e["outcome"] or "").strip().lower()
    if out in cfg.order_stands_outcomes:
        return "stands"
    if out in cfg.order_falls_outcomes:
        return "falls"
    return "unknown"


def case_view(person: PersonFacts, as_of: dt.date, config: GatesPolicy) -> CaseView:
    """Sort a person's facts into orders and events as known on ``as_of``."""
    known = []
    for f in person.facts:
        d = fact_date(f)
        if d is None or d <= as_of:
            known.append(f)
    cv = CaseView(person, as_of, config, known, [], [])
    cv.orders = sorted((OrderState(f, cv.certain(f)) for f in known
                        if f["kind"] == "removal_order" and f["order_date"] is not None),
                       key=lambda o: (o.date, o.key))
    cv.events = sorted((f for f in known if f["kind"] == "case_event"
                        and f["event_date"] is not None),
                       key=lambda f: (f["event_date"], f["record_key"]))
    window = dt.timedelta(days=config.appeal_window_days)
    for e in cv.events:
        o = _attach(e, cv.orders)
        if o is not None:
            o.events.append(e)
    at_once_types = config.final_at_once_types
    for o in cv.orders:
        o.window_end = o.date + window
        f = o.fact
        o.final_at_once = bool(f["in_absentia"]) or bool(f["appeal_waived"]) or \
            (f["order_type"] or "").lower() in at_once_types
        for e in o.events:
            t = e["event_type"]
            sure = cv.certain(e)

            def fall(ev: Fact = e, sure: bool = sure, o: OrderState = o) -> None:
                if sure:
                    o.active, o.fell_by = False, ev
                else:
                    o.doubtful_fall.append(ev)

            # An uncertain record can raise a doubt or a blocker, never settle one: only a
            # certain decision clears a pending appeal / motion / petition (or makes the order
            # final early); an uncertain one that would end the order is a doubt (review).
            if t == "appeal_filed":
                o.appeal_pending = _pending(o.appeal_pending, e, sure, cv)
            elif t == "appeal_decided":
                res = _outcome(e, config)
                _settle_filing(o, "appeal_pending", e, sure, res, fall)
                if sure and res == "stands":
                    o.appeal_decided = e  # the order became final on this date
            elif t == "motion_to_reopen_filed":
                o.motion_pending = _pending(o.motion_pending, e, sure, cv)
            elif t == "motion_decided":
                _settle_filing(o, "motion_pending", e, sure, _outcome(e, config), fall)
            elif t == "petition_for_review_filed":
                o.petition_pending = _pending(o.petition_pending, e, sure, cv)
            elif t == "petition_decided":
                _settle_filing(o, "petition_pending", e, sure, _outcome(e, config), fall)
            elif t == "order_vacated":
                fall()
            elif t == "relief_granted" and e["event_date"] >= o.date:
                o.relief.append(e)
        if o.active:
            if o.final_at_once:
                o.final, o.final_date = True, o.date
            elif o.appeal_pending is not None:
                o.final = False
            elif o.appeal_decided is not None:
                o.final, o.final_date = True, o.appeal_decided["event_date"]
            elif as_of > o.window_end:
                o.final, o.final_date = True, o.window_end + dt.timedelta(days=1)
    return cv


def _verdict(gate: str, blockers: list[tuple[Fact | None, bool, str]], ok_reason: str,
             flags: Sequence[str] = (), extra_evidence: Sequence[str] = ()) -> GateResult:
    """Certain blocker -> fail; only uncertain blockers -> needs_review; none -> pass."""
    sure = [b for b in blockers if b[1]]
    chosen = sure or blockers
    if not chosen:
        return GateResult(gate, PASS, ok_reason, tuple(extra_evidence), tuple(flags))
    keys = tuple(dict.fromkeys(b[0]["record_key"] for b in chosen if b[0] is not None))
    reason = "; ".join(dict.fromkeys(b[2] for b in chosen if b[2]))
    if not sure:
        via = {b[0].get("linked_via") for b in chosen if b[0] is not None}
        how = ("record found by a shared A-number, not linked by resolution" if "a_number" in via
               else "record found by a near A-number (one edit apart), not linked by resolution"
               if "a_number_near" in via
               else "record of another person with an uncertain link to this person's records"
               if "identity_link" in via
               else "record found by birth date and name, not linked by resolution"
               if "name_dob" in via else
               "record found by case number but resolved to another person"
               if "case_number_conflict" in via else "uncertain identity link")
        reason = f"{how}, review: {reason}"
    return GateResult(gate, FAIL if sure else REVIEW, reason, keys, tuple(flags))


# ---------------------------------------------------------------------------------------
# The seven gates
# ---------------------------------------------------------------------------------------
def final_order(cv: CaseView) -> GateResult:
    """1. A removal order exists and is administratively final."""
    g = "final_order"
    if not cv.orders:
        return GateResult(g, FAIL, "no removal order on record")
    active = cv.active_orders
    if not active:
        last = cv.orders[-1]
        ev = last.fell_by
        what = (ev["event_type"] if ev else "ended").replace("_", " ")
        return GateResult(g, FAIL, f"removal order no longer stands ({what} "
                          f"{ev['event_date'] if ev else ''})".strip(),
                          tuple(o.key for o in cv.orders) + ((ev["record_key"],) if ev else ()))
    finals = [o for o in active if o.final]
    good = [o for o in finals if o.certain and not o.doubtful_fall and not o.unknown_outcomes]
    if good:
        o = good[-1]
        how = ("made in absentia" if o.fact["in_absentia"] else
               "appeal waived" if o.fact["appeal_waived"] else
               f"{o.fact['order_type']} order" if o.final_at_once else
               "appeal dismissed" if o.appeal_decided is not None else
               "appeal period ran out with no appeal")
        ev = (o.key,) + ((o.appeal_decided["record_key"],) if o.appeal_decided else ())
        return GateResult(g, PASS, f"final order of {o.date} ({how}), final since {o.final_date}",
                          ev)
    if finals:
        o = finals[-1]
        doubts = o.doubtful_fall + o.unknown_outcomes
        if not o.certain:
            why = "the only final removal order is on an uncertain identity link"
        elif o.unknown_outcomes:
            why = "a decision on the order has an unrecognised outcome"
        else:
            why = "an uncertainly linked record says the order was vacated or reopened"
        return GateResult(g, REVIEW, why, (o.key,) + tuple(d["record_key"] for d in doubts))
    o = active[-1]
    if o.appeal_pending is not None:
        ap = o.appeal_pending
        if not cv.certain(ap):
            return GateResult(g, REVIEW, f"an uncertainly linked record says an appeal filed "
                              f"{ap['event_date']} is pending: order may not be final",
                              (o.key, ap["record_key"]))
        return GateResult(g, FAIL, f"appeal filed {ap['event_date']} is pending: "
                          "order not final", (o.key, ap["record_key"]))
    return GateResult(g, FAIL, f"appeal period open through {o.window_end}: order not final",
                      (o.key,))


def no_automatic_stay(cv: CaseView) -> GateResult:
    """2. Not in the appeal window, no appeal pending, no pending motion to reopen an
    in-absentia order (each stays removal by rule)."""
    blockers: list[tuple[Fact | None, bool, str]] = []
    for o in cv.active_orders:
        if (not o.final_at_once and o.appeal_pending is None and o.appeal_decided is None
                and cv.as_of <= o.window_end):   # inclusive: day D+30 is inside the window
            msg = f"inside the appeal window (through {o.window_end})"
            blockers.append((o.fact, o.certain, msg))
        if o.appeal_pending is not None:
            blockers.append((o.appeal_pending, cv.certain(o.appeal_pending),
                             f"appeal pending since {o.appeal_pending['event_date']}"))
        if o.motion_pending is not None and o.fact["in_absentia"]:
            msg = (f"motion to reopen an in-absentia order pending since "
                   f"{o.motion_pending['event_date']} (stays removal by rule)")
            blockers.append((o.motion_pending, cv.certain(o.motion_pending), msg))
    return _verdict("no_automatic_stay", blockers, "no automatic stay applies")


def _stays_in_force(cv: CaseView) -> list[Fact]:
    """Granted stays covering the as-of date. Only a certain ``stay_ended`` lifts a stay."""
    grants = [e for e in cv.events if e["event_type"] == "stay_granted"]
    ends = [e for e in cv.events if e["event_type"] == "stay_ended" and cv.certain(e)]
    live = []
    for s in grants:
        if s["stay_end_date"] is not None and s["stay_end_date"] < cv.as_of:
            continue                      # the end date itself is still covered
        cn = s["case_number"]
        lifted = any(x["event_date"] >= s["event_date"] and x["event_date"] <= cv.as_of
                     and (not cn or not x["case_number"] or x["case_number"] == cn)
                     for x in ends)
        if not lifted:
            live.append(s)
    return live


def no_granted_stay(cv: CaseView) -> GateResult:
    """3. No stay granted by a court, the board, a judge or the agency covers the as-of date.
    A pending petition for review or motion without a stay passes, flagged for the supervisor."""
    blockers = []
    for s in _stays_in_force(cv):
        who = s["stay_authority"] or "unknown authority"
        until = f"through {s['stay_end_date']}" if s["stay_end_date"] else "with no end date"
        blockers.append((s, cv.certain(s), f"stay granted {s['event_date']} by {who} {until}"))
    flags, ev = [], []
    for o in cv.active_orders:
        if o.petition_pending is not None:
            flags.append("petition_for_review_pending")
            ev.append(o.petition_pending["record_key"])
        if o.motion_pending is not None and not o.fact["in_absentia"]:
            flags.append("motion_to_reopen_pending")
            ev.append(o.motion_pending["record_key"])
    ok = "no stay in force"
    if flags:
        ok += " (pending " + ", ".join(f.replace("_pending", "").replace("_", " ")
                                      for f in dict.fromkeys(flags)) + " without a stay: supervisor review)"
    return _verdict("no_granted_stay", blockers, ok, tuple(dict.fromkeys(flags)), ev)


def no_citizenship_or_status(cv: CaseView) -> GateResult:
    """4. No evidence of U.S. citizenship, naturalization, lawful permanent residence or other
    lawful status after the order, and no relief granted after the order."""
    blockers: list[tuple[Fact | None, bool, str]] = []
    # a status granted before the order is superseded by it -- but only by a certain order:
    # an uncertain later order must not hide a lawful status
    sure_orders = [o for o in cv.orders if o.certain]
    last_order = sure_orders[-1].date if sure_orders else None
    for f in cv.known:
        if f["kind"] != "status":
            continue
        t, d = f["status_type"], f["status_date"]
        sure = cv.certain(f)
        if t in CITIZENSHIP_TYPES:
            blockers.append((f, sure, f"{t.replace('_', ' ')} evidence"
                             + (f" dated {d}" if d else "") + ": route to review"))
        elif t in LATER_STATUS_TYPES:
            if d is None or last_order is None or d > last_order:
                blockers.append((f, sure, f"{t.replace('_', ' ')} status"
                                 + (f" granted {d}, after the order" if d and last_order else "")))
        elif t == "other":
            blockers.append((f, False, "unrecognised status evidence"))
    for o in cv.orders:
        for e in o.relief:
            blockers.append((e, cv.certain(e), (f"relief granted {e['event_date']} after the "
                             f"order of {o.date}")))
    return _verdict("no_citizenship_or_status", blockers,
                    "no citizenship, later lawful status or relief on record")


def no_protected_application(cv: CaseView) -> GateResult:
    """5. No T or U visa application or VAWA self-petition (information that may not be used
    adversely): blocked."""
    blockers = [(f, cv.certain(f), "protected-status application on record")
                for f in cv.known
                if f["kind"] == "status" and f["status_type"] in PROTECTED_STATUS_TYPES]
    return _verdict("no_protected_application", blockers, "no protected-status application")


#: Ways a record reaches a person without being resolved to them (always uncertain).
IDENTITY_FALLBACK_VIAS = ("a_number", "a_number_near", "name_dob", "identity_link")

#: The gates whose blocking evidence identity confidence re-reads (every gate but itself).
_FACT_GATES: tuple[str, ...] = ("final_order", "no_automatic_stay", "no_granted_stay",
                                "no_citizenship_or_status", "no_protected_application",
                                "not_already_resolved")


def _uncertain_legal_evidence(cv: CaseView) -> list[Fact]:
    """Records of uncertain identity (not resolved to this person) that carry a fact some
    gate would block on: the identity question decides this person's eligibility."""
    maybe = {f["record_key"]: f for f in cv.known
             if f.get("linked_via") in IDENTITY_FALLBACK_VIAS}
    if not maybe:
        return []
    out: dict[str, Fact] = {}
    for name in _FACT_GATES:
        r = _GATE_FUNCS[name](cv)
        if r.verdict != PASS:
            for k in r.evidence:
                if k in maybe:
                    out.setdefault(k, maybe[k])
    return list(out.values())


def identity_confidence(cv: CaseView) -> GateResult:
    """6. Identity confidence: what the other gates rely on is the right person's.

    Needs review when (a) the person's own cluster is weak (``persons.confidence`` below the
    threshold: its weakest link, lowered when its records contradict each other); (b)
    another person's record matches one of the person's removal orders strongly
    or the subject's registration (``identity_rival_threshold``: a twin, a namesake, or the same
    person split off): which of the two the order is about is for a human; or
    (c) a record that may be this person's (an uncertain scored link, a shared or near
    A-number, a namesake with a compatible birth date) carries a fact that would block.
    Uncertain links of records without legal facts (address observations) do not count here:
    they weigh on the lead's location confidence instead.
    """
    g = "identity_confidence"
    c, thr = cv.person.confidence, cv.config.identity_confidence_threshold
    why: list[str] = []
    ev: list[str] = []
    if c is None:
        why.append("identity confidence unknown")
    elif c < thr:
        why.append(f"identity confidence {c:.3f} below threshold {thr:.3f} (weak links "
                   "inside the person, or its records contradict each other)")
    rivals = sorted((f for f in cv.known if f["kind"] == RIVAL_KIND
                     and f["link_probability"] >= cv.config.identity_rival_threshold),
                    key=lambda f: (-f["link_probability"], f["record_key"]))
    if rivals:
        why.append(f"{len(rivals)} record(s) of another person match this person's order or "
                   f"registration (model probability up to "
                   f"{rivals[0]['link_probability']:.3f}): twin, namesake or split record")
        ev.extend(f["record_key"] for f in rivals)
    legal = _uncertain_legal_evidence(cv)
    if legal:
        kinds = ", ".join(dict.fromkeys(f["kind"].replace("_", " ") for f in legal))
        why.append(f"{len(legal)} record(s) of uncertain identity carry facts that would "
                   f"block ({kinds})")
        ev.extend(f["record_key"] for f in legal)
    if why:
        return GateResult(g, REVIEW, "; ".join(why) + ": review", tuple(dict.fromkeys(ev)))
    return GateResult(g, PASS, f"identity confidence {c:.3f} meets threshold {thr:.3f}; no "
                      "uncertain record carries a blocking fact")


def not_already_resolved(cv: CaseView) -> GateResult:
    """7. Not in custody, not removed, not verified departed."""
    blockers: list[tuple[Fact | None, bool, str]] = []
    flags: list[str] = []
    ev: list[str] = []
    for f in cv.known:
        if f["kind"] == "detention":
            out = f["book_out_date"]
            if out is None or out > cv.as_of:   # released on the as-of date = not in custody
                blockers.append((f, cv.certain(f), (f"in custody since {f['book_in_date']} at "
                                 f"{f['facility_id']}")))
        elif f["kind"] == "encounter" and (f["encounter_type"] or "").lower() \
                in REMOVED_ENCOUNTER_TYPES:
            blockers.append((f, cv.certain(f), f"removed on {f['encounter_date']}"))
    dep = cv.departure
    by_key = {f["record_key"]: f for f in cv.known if f["kind"] == "departure"}
    if dep.status == VERIFIED and not dep.returned:
        blockers.append((by_key.get(dep.evidence[-1], {"record_key": dep.evidence[-1]}),
                         dep.certain,
                         f"verified departed {dep.departure_date} ({dep.channel})"))
    elif dep.status == VERIFIED and dep.returned:
        # conflicting records: officially departed, yet seen here later. Re-entry is possible,
        # so is a stale or mislinked record: a human decides (never a silent pass).
        blockers.append((by_key.get(dep.evidence[-1], {"record_key": dep.evidence[-1]}), False,
                         (f"verified departed {dep.departure_date} ({dep.channel}) but seen in "
                         f"the country after it ({', '.join(dep.return_evidence[:3])}): "
                         "possible re-entry")))
        blockers.append(({"record_key": dep.return_evidence[0]}, False, ""))
        flags.append("reentered_after_departure")
    if dep.claims and (dep.status == CLAIMED or dep.returned):
        # a self-report is a claim until an official record confirms it: flag, never remove
        flags.append("claimed_departure")
        ev.extend(dep.claims)
        if dep.status == CLAIMED and dep.returned:
            flags.append("seen_after_claimed_departure")
            ev.extend(dep.return_evidence[:1])
    ok = "not in custody, not removed, not departed"
    if "claimed_departure" in flags:
        ok += " (self-reported departure unconfirmed: flagged)"
    return _verdict("not_already_resolved", blockers, ok, tuple(dict.fromkeys(flags)),
                    tuple(dict.fromkeys(ev)))


#: The gates, in order. One definition each; nothing else decides eligibility.
GATES: tuple[tuple[str, Callable[[CaseView], GateResult]], ...] = (
    ("final_order", final_order),
    ("no_automatic_stay", no_automatic_stay),
    ("no_granted_stay", no_granted_stay),
    ("no_citizenship_or_status", no_citizenship_or_status),
    ("no_protected_application", no_protected_application),
    ("identity_confidence", identity_confidence),
    ("not_already_resolved", not_already_resolved),
)
GATE_NAMES: tuple[str, ...] = tuple(n for n, _ in GATES)
_GATE_FUNCS: dict[str, Callable[[CaseView], GateResult]] = dict(GATES)


def evaluate(facts: PersonFacts, as_of: dt.date, config: GatesPolicy) -> list[GateResult]:
    """Every gate's verdict for one person on ``as_of`` (pure: no I/O, no clock)."""
    cv = case_view(facts, as_of, config)
    return [fn(cv) for _, fn in GATES]


def is_eligible(results: Sequence[GateResult]) -> bool:
    """Eligible only when every gate passed."""
    return len(results) == len(GATES) and all(r.verdict == PASS for r in results)


def blocking_gates(results: Sequence[GateResult]) -> list[str]:
    return [r.gate for r in results if r.verdict != PASS]


def result_flags(results: Sequence[GateResult]) -> list[str]:
    return list(dict.fromkeys(f for r in results for f in r.flags))
