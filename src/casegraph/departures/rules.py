"""Departure rules: is a person verified departed, claimed departed, or neither, on a date.

Pure functions of a person's facts (see :mod:`casegraph.policy.facts`), used both by gate 7
(not already resolved) and by the departures classification, so they cannot disagree.

- *verified*: at least one departure record from an official channel (air/sea exit manifest,
  biometric exit, land exit exchanged with a neighbouring country, consular verification).
- *claimed*: only self-reported departures. A claim is flagged for confirmation; the person
  stays in the lead pool.
- *returned*: a verified departure followed by a later sign of presence in the country
  (an encounter, a detention book-in, a conviction or a location observation dated after
  the departure, on a confidently linked record). Conflicting evidence: gate 7 routes the
  person to review (possible re-entry, or a stale record) instead of deciding either way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from casegraph.ontology import OFFICIAL_DEPARTURE_CHANNELS

VERIFIED = "verified_departed"
CLAIMED = "claimed_departed"

_PRESENCE_DATE = {"encounter": "encounter_date", "detention": "book_in_date",
                  "conviction": "conviction_date", "location": "observed_on"}


@dataclass(frozen=True, slots=True)
class DepartureState:
    """A person's departure standing on a date."""

    status: str | None                 # VERIFIED, CLAIMED or None
    channel: str | None = None         # channel of the deciding (latest) departure
    departure_date: dt.date | None = None
    evidence: tuple[str, ...] = ()     # departure record keys that decided it
    certain: bool = True               # every deciding record linked above the threshold
    returned: bool = False             # seen in the country after the (verified) departure
    return_evidence: tuple[str, ...] = ()
    claims: tuple[str, ...] = ()       # self-report record keys (also when verified)


def departure_state(facts: Iterable[dict], as_of: dt.date, link_threshold: float
                    ) -> DepartureState:
    """Classify one person's departure facts as of ``as_of`` (facts dated later are unknown)."""
    official: list[dict] = []
    claims: list[dict] = []
    presence: list[tuple[dt.date, str]] = []
    for f in facts:
        kind = f["kind"]
        if kind == "departure":
            d = f["departure_date"]
            if d is None or d > as_of:
                continue
            (official if f["channel"] in OFFICIAL_DEPARTURE_CHANNELS else claims).append(f)
        elif kind in _PRESENCE_DATE:
            d = f[_PRESENCE_DATE[kind]]
            if d is not None and d <= as_of and f["link_probability"] >= link_threshold:
                presence.append((d, f["record_key"]))
    claim_keys = tuple(sorted(f["record_key"] for f in claims))
    if official:
        official.sort(key=lambda f: (f["departure_date"], f["record_key"]))
        last = official[-1]
        certain = any(f["link_probability"] >= link_threshold for f in official)
        back = sorted(k for d, k in presence if d > last["departure_date"])
        return DepartureState(VERIFIED, last["channel"], last["departure_date"],
                              tuple(f["record_key"] for f in official), certain,
                              bool(back), tuple(back), claim_keys)
    if claims:
        claims.sort(key=lambda f: (f["departure_date"], f["record_key"]))
        last = claims[-1]
        back = sorted(k for d, k in presence if d > last["departure_date"])
        return DepartureState(CLAIMED, last["channel"], last["departure_date"], claim_keys,
                              any(f["link_probability"] >= link_threshold for f in claims),
                              bool(back), tuple(back), claim_keys)
    return DepartureState(None)
