"""The agency's record systems: each builder turns the population into one source table
(columns as the system writes them) plus the ingest spec that maps it onto the ontology.

Layouts differ on purpose (name as "LAST, FIRST MIDDLE" vs split columns, US / ISO /
compact / day-first / APIS dates, A-number styles, CSV / pipe / semicolon / JSONL /
Parquet, one Latin-1 export), because that is what the ingest stage meets in real life.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from casegraph.synth import geo
from casegraph.synth.names import CULTURES
from casegraph.synth.noise import (
    DateNoise,
    NameNoise,
    apply_anumber_noise,
    apply_date_noise,
    apply_name_noise,
    format_anumber,
)
from casegraph.synth.story import CULTURE_NAMES, MAX_ADDR, NAT, Population, days

_FAMILY_FIRST = np.array([bool(CULTURES[c].get("family_first")) for c in CULTURE_NAMES])
_HISPANIC = np.array([c == "hispanic" for c in CULTURE_NAMES])
STREETS = np.array(geo.STREETS, dtype=object)
SUFFIXES = np.array(geo.SUFFIXES, dtype=object)
SUFFIX_LONG = np.array([geo.SUFFIX_LONG[s] for s in geo.SUFFIXES], dtype=object)

OFFENSES = np.array([
    # code, category, severity, charge text, weight
    ("13-1105", "homicide", "felony", "HOMICIDE", 0.01),
    ("13-1204", "assault", "felony", "AGGRAVATED ASSAULT", 0.06),
    ("13-1203", "assault", "misdemeanor", "SIMPLE ASSAULT", 0.10),
    ("13-3415", "drugs", "felony", "POSSESSION W/ INTENT TO DISTRIBUTE", 0.06),
    ("13-3405", "drugs", "misdemeanor", "POSSESSION OF MARIJUANA", 0.07),
    ("28-1381", "dui", "misdemeanor", "DRIVING UNDER THE INFLUENCE", 0.16),
    ("28-3473", "traffic", "misdemeanor", "DRIVING ON SUSPENDED LICENSE", 0.12),
    ("28-3151", "traffic", "infraction", "NO VALID DRIVER LICENSE", 0.10),
    ("13-1802", "theft", "misdemeanor", "SHOPLIFTING", 0.08),
    ("13-1506", "burglary", "felony", "BURGLARY", 0.04),
    ("13-1904", "robbery", "felony", "ARMED ROBBERY", 0.02),
    ("13-2008", "fraud", "felony", "IDENTITY THEFT", 0.03),
    ("13-3601", "domestic_violence", "misdemeanor", "DOMESTIC VIOLENCE", 0.07),
    ("13-2904", "public_order", "infraction", "DISORDERLY CONDUCT", 0.05),
    ("08-1326", "immigration", "felony", "ILLEGAL RE-ENTRY", 0.03),
], dtype=object)

COUNTIES = np.array(["Harris County Sheriff", "Los Angeles County Sheriff",
                     "Maricopa County Sheriff", "Miami-Dade Police", "Cook County Sheriff",
                     "Dallas County Sheriff", "Travis County Sheriff", "Orange County Sheriff",
                     "Gwinnett County Sheriff", "Mecklenburg County Sheriff"], dtype=object)
CARRIERS = {"air_exit": np.array(["AA", "UA", "DL", "AM", "CM", "AV", "B6", "NK"], dtype=object),
            "sea_exit": np.array(["CARNIVAL", "ROYAL CARIBBEAN", "BALEARIA"], dtype=object),
            "biometric_exit": np.array(["AA", "UA", "DL", "BA", "LH", "QR"], dtype=object)}
PORTS = {"air_exit": np.array(["IAH", "LAX", "MIA", "JFK", "ATL", "DFW", "ORD", "EWR"], dtype=object),
         "sea_exit": np.array(["PORT OF MIAMI", "PORT EVERGLADES", "PORT OF GALVESTON"], dtype=object),
         "biometric_exit": np.array(["IAH", "ATL", "JFK", "LAX", "SFO", "MIA"], dtype=object)}
LAND_PORTS = np.array(["NUEVO LAREDO", "CIUDAD JUÁREZ", "TIJUANA", "REYNOSA", "NOGALES",
                       "MATAMOROS", "PIEDRAS NEGRAS", "MEXICALI"], dtype=object)
CONSULATES = np.array(["Consulate General Houston", "Consulate General Los Angeles",
                       "Consulate Miami", "Consulate Atlanta", "Consulate Chicago",
                       "Embassy Washington"], dtype=object)


@dataclass
class Source:
    """One generated source: table columns, the spec mapping, and the person of each row."""

    name: str
    kind: str
    file: str                     # relative to the data directory
    format: str
    record_id: str                # column holding the record id
    id_prefix: str
    fields: dict[str, Any]
    columns: dict[str, Any]       # column -> numpy/pyarrow array, row order = person order
    person: np.ndarray            # person index per row, -1 for non-person kinds
    description: str = ""
    encoding: str | None = None
    delimiter: str | None = None
    id_width: int = 8
    noise: dict[str, int] = field(default_factory=dict)
    table: pa.Table | None = None  # filled by finalise(), released once written
    ids: pa.Array | None = None    # record ids in file order (kept for the truth)
    rows: int = 0


# ---- helpers -------------------------------------------------------------------------

def S(x: Any) -> pa.Array:
    """A string array; empty strings become null (a missing value in every format)."""
    if isinstance(x, pa.ChunkedArray):
        x = x.combine_chunks()
    if not isinstance(x, pa.Array):
        x = pa.array(np.asarray(x, dtype=object), type=pa.string(), from_pandas=True)
    if x.type != pa.string():
        x = pc.cast(x, pa.string())
    return pc.if_else(pc.equal(x, ""), pa.scalar(None, pa.string()), x)


def fmt_date(d: np.ndarray, fmt: str, upper: bool = False) -> pa.Array:
    arr = pc.strftime(pa.array(d.astype("datetime64[s]")), format=fmt)
    return pc.utf8_upper(arr) if upper else arr


def join(*parts: Any, sep: str = " ") -> pa.Array:
    """Join string parts with sep, skipping empty/null parts."""
    arrs = [S(p) for p in parts]
    return pc.binary_join_element_wise(*arrs, sep, null_handling="skip")


def upper(x: Any) -> pa.Array:
    return pc.utf8_upper(S(x))


def uniform_dates(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    span = np.maximum((hi - lo).astype(np.int64), 1)
    return lo + days((rng.random(len(lo)) * span).astype(np.int64))


def slot_at(pop: Population, pidx: np.ndarray, when: np.ndarray) -> np.ndarray:
    """Which residence slot a person lived in on a date (0 if before the first)."""
    k = (pop.addr_from[pidx] <= when[:, None]).sum(axis=1) - 1
    return np.clip(k, 0, None)


def street_address(pop: Population, pidx: np.ndarray, slot: np.ndarray, rng: np.random.Generator,
                   style: str = "usps") -> tuple[pa.Array, np.ndarray]:
    """'123 Main St Apt 4' for each record, and the ZIP index."""
    num = pop.addr_num[pidx, slot]
    st = STREETS[pop.addr_street[pidx, slot]]
    sfx_i = pop.addr_suffix[pidx, slot]
    sfx = SUFFIXES[sfx_i]
    unit = pop.addr_unit[pidx, slot]
    if style == "long":
        sfx = np.where(rng.random(len(pidx)) < 0.6, SUFFIX_LONG[sfx_i], sfx)
        unit = unit.copy()
        hash_ = np.flatnonzero((rng.random(len(pidx)) < 0.3) & (unit != ""))
        unit[hash_] = [u.replace("Apt ", "#").replace("Unit ", "#") for u in unit[hash_]]
    out = join(pc.cast(pa.array(num), pa.string()), st, sfx, unit)
    if style == "upper":
        out = pc.utf8_upper(out)
    return out, pop.addr_zip[pidx, slot]


def place(zip_idx: np.ndarray, upper_case: bool = False) -> tuple[pa.Array, pa.Array, pa.Array]:
    pool = geo.zip_pool()
    city = S(pool.city[zip_idx])
    if upper_case:
        city = pc.utf8_upper(city)
    return city, S(pool.state[zip_idx]), S(pool.zip[zip_idx])


def person_names(pop: Population, pidx: np.ndarray, rng: np.random.Generator, noise: NameNoise
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    cult = pop.culture[pidx]
    return apply_name_noise(rng, pop.given[pidx], pop.middle[pidx], pop.family[pidx],
                            _FAMILY_FIRST[cult], _HISPANIC[cult], noise)


def dob(pop: Population, pidx: np.ndarray, rng: np.random.Generator, noise: DateNoise
        ) -> tuple[np.ndarray, dict]:
    return apply_date_noise(rng, pop.birth_date[pidx], noise)


def anum(pop: Population, pidx: np.ndarray, rng: np.random.Generator, missing: float,
         style: str) -> tuple[pa.Array, dict]:
    a, present, st = apply_anumber_noise(rng, pop.a_number[pidx], missing)
    return S(format_anumber(rng, a, present, style)), st


def maybe(rng: np.random.Generator, values: Any, p_present: float) -> pa.Array:
    arr = S(values)
    keep = pa.array(rng.random(len(arr)) < p_present)
    return pc.if_else(keep, arr, pa.scalar(None, pa.string()))


def merge(*dicts: dict) -> dict:
    out: dict[str, int] = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return out


def repeat_people(rng: np.random.Generator, people: np.ndarray, counts_p: list[float]
                  ) -> np.ndarray:
    """Each person repeated 1..len(counts_p) times."""
    c = rng.choice(np.arange(1, len(counts_p) + 1), size=len(people), p=counts_p)
    return np.repeat(people, c)


# ---- builders ------------------------------------------------------------------------

def enforcement_subjects(pop: Population, rng: np.random.Generator) -> Source:
    has_order = ~np.isnat(pop.facts["order_date"])
    p = np.flatnonzero(has_order | (rng.random(pop.n) < 0.5))
    g, m, f, ns = person_names(pop, p, rng, NameNoise(variant=0.04, typo=0.01, swap=0.01,
                                                       shorten=0.1, drop_middle=0.2))
    d, ds = dob(pop, p, rng, DateNoise(0.005, 0.005, 0.003, 0.0))
    a, ast = anum(pop, p, rng, 0.0, "A9")
    a_present = pa.array(rng.random(len(p)) >= 0.01)
    a = pc.if_else(a_present, a, pa.scalar(None, pa.string()))
    cols = {
        "subject_id": None, "first_name": S(g), "middle_name": S(m), "last_name": S(f),
        "dob": pa.array(d, type=pa.date32()), "sex": S(pop.sex[p]),
        "birth_country": S(pop.nationality[p]), "citizenship": S(pop.nationality[p]),
        "a_number": a, "passport_no": S(pop.passport[p]),
        "passport_country": S(np.where(pop.passport[p] != "", pop.nationality[p], "")),
        "fbi_no": maybe(rng, pop.fbi[p], 0.3), "phone": maybe(rng, pop.phone[p], 0.5),
        "aka": S(_aliases(pop, p, rng)),
    }
    return Source("enforcement_subjects", "person", "enforcement_subjects.parquet", "parquet",
                  "subject_id", "SUBJ-", {
                      "given_name": "first_name", "middle_name": "middle_name",
                      "family_name": "last_name", "birth_date": "dob", "sex": "sex",
                      "birth_country": "birth_country", "nationality": "citizenship",
                      "a_number": "a_number", "passport_number": "passport_no",
                      "passport_country": "passport_country", "fbi_number": "fbi_no",
                      "phone": "phone", "name_aliases": "aka"},
                  cols, p, "Agency subject index (Parquet, split names, typed dates, AKAs)",
                  noise=merge(ns, ds, ast))


def _aliases(pop: Population, p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """'Also known as' names for ~15% of subjects: other spellings, shortened or swapped."""
    from casegraph.synth.names import VARIANTS
    from casegraph.synth.noise import strip_accents

    out = np.full(len(p), "", dtype=object)
    pick = np.flatnonzero(rng.random(len(p)) < 0.15)
    r = rng.random(len(pick))
    for j, i in enumerate(pick):
        g, f = pop.given[p[i]], pop.family[p[i]]
        names = []
        if g in VARIANTS:
            v = VARIANTS[g]
            names.append(f"{v[int(r[j] * len(v))]} {f}")
        if " " in f:
            names.append(f"{g} {f.split(' ')[0]}")
        if f in VARIANTS:
            names.append(f"{g} {VARIANTS[f][0]}")
        if not names:
            names.append(f"{f} {g}" if r[j] < 0.5 else strip_accents(f"{g} {f}").upper())
        out[i] = "; ".join(names)
    return out


def court_orders(pop: Population, rng: np.random.Generator) -> Source:
    f_ = pop.facts
    p = np.flatnonzero(~np.isnat(f_["order_date"]))
    g, m, f, ns = person_names(pop, p, rng, NameNoise(variant=0.12, typo=0.03, swap=0.03))
    d, ds = dob(pop, p, rng, DateNoise(0.02, 0.01, 0.01, 0.02))
    a, ast = anum(pop, p, rng, 0.03, "short")
    cols = {
        "order_id": None, "respondent_first": S(join(g, m)), "respondent_last": S(f),
        "respondent_dob": fmt_date(d, "%Y-%m-%d"), "alien_no": a,
        "nationality": S(pop.nationality[p]),
        "order_date": fmt_date(f_["order_date"][p], "%Y-%m-%d"),
        "order_type": S(f_["order_type"][p]),
        "in_absentia": pa.array(f_["in_absentia"][p]),
        "appeal_waived": pa.array(f_["appeal_waived"][p]),
        "case_no": case_numbers(pop, p), "court": S(f_["court"][p]),
    }
    return Source("eoir_orders", "removal_order", "court_orders.jsonl", "jsonl", "order_id",
                  "ORD-", {
                      "given_name": "respondent_first", "family_name": "respondent_last",
                      "birth_date": "respondent_dob", "a_number": "alien_no",
                      "nationality": "nationality", "order_date": "order_date",
                      "order_type": "order_type", "in_absentia": "in_absentia",
                      "appeal_waived": "appeal_waived", "case_number": "case_no",
                      "court": "court"},
                  cols, p, "Immigration court removal orders (JSONL, split names, ISO dates)",
                  noise=merge(ns, ds, ast))


def case_numbers(pop: Population, p: np.ndarray) -> pa.Array:
    yr = pc.cast(pa.array(pop.facts["order_date"][p].astype("datetime64[Y]").astype(np.int64)
                          + 1970), pa.string())
    seq = pc.utf8_lpad(pc.cast(pa.array(p), pa.string()), 7, "0")
    return join(S(pop.facts["court_code"][p]), yr, seq, sep="-")


def case_events(pop: Population, rng: np.random.Generator) -> Source:
    f_ = pop.facts
    parts = []  # (persons, event_type, date, outcome, stay_end, authority)

    def add(date_key: str, etype: str, outcome: Any = "", stay_end: Any = None,
            auth: Any = "") -> None:
        m = ~np.isnat(f_[date_key])
        idx = np.flatnonzero(m)
        if not len(idx):
            return
        oc = outcome[idx] if isinstance(outcome, np.ndarray) else np.full(len(idx), outcome, object)
        se = stay_end[idx] if isinstance(stay_end, np.ndarray) else np.full(len(idx), NAT)
        au = auth[idx] if isinstance(auth, np.ndarray) else np.full(len(idx), auth, object)
        parts.append((idx, etype, f_[date_key][idx], oc, se, au))

    add("appeal_filed", "appeal_filed")
    add("appeal_decided", "appeal_decided", f_["appeal_outcome"])
    add("mtr_filed", "motion_to_reopen_filed")
    add("mtr_decided", "motion_decided", f_["mtr_outcome"])
    add("pfr_filed", "petition_for_review_filed")
    add("pfr_decided", "petition_decided", "denied")
    add("stay_start", "stay_granted", "", f_["stay_end"], f_["stay_authority"])
    add("stay_ended", "stay_ended", "lifted")
    add("relief_date", "relief_granted", f_["relief_kind"])
    add("vacated_date", "order_vacated", "vacated")
    p = np.concatenate([x[0] for x in parts])
    etype = np.concatenate([np.full(len(x[0]), x[1], object) for x in parts])
    edate = np.concatenate([x[2] for x in parts])
    outcome = np.concatenate([x[3] for x in parts])
    stay_end = np.concatenate([x[4] for x in parts])
    auth = np.concatenate([x[5] for x in parts])
    g, _m, f, ns = person_names(pop, p, rng, NameNoise(variant=0.1, typo=0.03, swap=0.03))
    d, ds = dob(pop, p, rng, DateNoise(0.02, 0.01, 0.01, 0.03))
    a, ast = anum(pop, p, rng, 0.05, "plain9")
    cols = {
        "event_id": None, "case_no": case_numbers(pop, p), "first_name": S(g),
        "last_name": S(f), "birth_date": fmt_date(d, "%Y-%m-%d"), "a_number": a,
        "event_type": S(etype), "event_date": fmt_date(edate, "%Y-%m-%d"),
        "outcome": S(outcome), "stay_end_date": fmt_date(stay_end, "%Y-%m-%d"),
        "stay_authority": S(auth),
    }
    return Source("eoir_case_events", "case_event", "case_events.parquet", "parquet", "event_id",
                  "EV-", {
                      "given_name": "first_name", "family_name": "last_name",
                      "birth_date": "birth_date", "a_number": "a_number",
                      "case_number": "case_no", "event_type": "event_type",
                      "event_date": "event_date", "outcome": "outcome",
                      "stay_end_date": "stay_end_date", "stay_authority": "stay_authority"},
                  cols, p, "Immigration court case events: appeals, motions, petitions, stays, "
                           "relief (Parquet, ISO date strings)", noise=merge(ns, ds, ast))


SECTORS = np.array(["RIO GRANDE VALLEY", "LAREDO", "DEL RIO", "BIG BEND", "EL PASO", "TUCSON",
                    "YUMA", "EL CENTRO", "SAN DIEGO", "MIAMI", "SWANTON"], dtype=object)


def border_apprehensions(pop: Population, rng: np.random.Generator) -> Source:
    """Apprehensions at entry (most removal cases start with one): A-number assigned there."""
    has_order = ~np.isnat(pop.facts["order_date"])
    p = np.flatnonzero(has_order & (rng.random(pop.n) < 0.45))
    when = pop.addr_from[p, 0] - days(rng.integers(0, 4, len(p)))
    g, m, f, ns = person_names(pop, p, rng, NameNoise(variant=0.15, typo=0.04, swap=0.05,
                                                       shorten=0.2, ascii_only=True))
    d, ds = dob(pop, p, rng, DateNoise(0.04, 0.04, 0.02, 0.03))
    a, ast = anum(pop, p, rng, 0.02, "A9")
    sector = SECTORS[rng.integers(0, len(SECTORS), len(p))]
    cols = {"event_no": None, "subject_last": upper(f), "subject_first": upper(join(g, m)),
            "dob": fmt_date(d, "%Y/%m/%d"), "sex": S(pop.sex[p]),
            "citizenship": S(pop.nationality[p]), "a_number": a,
            "fbi": maybe(rng, pop.fbi[p], 0.6), "apprehended": fmt_date(when, "%Y/%m/%d"),
            "sector": S("USBP " + sector + " SECTOR")}
    return Source("border_apprehensions", "encounter", "border_apprehensions.csv", "csv",
                  "event_no", "BP", {
                      "family_name": "subject_last", "given_name": "subject_first",
                      "birth_date": {"column": "dob", "format": "%Y/%m/%d"}, "sex": "sex",
                      "nationality": "citizenship", "a_number": "a_number",
                      "fbi_number": "fbi",
                      "encounter_date": {"column": "apprehended", "format": "%Y/%m/%d"},
                      "agency": "sector", "encounter_type": {"value": "apprehension"}},
                  cols, p, "Border apprehensions at entry (CSV, upper case, %Y/%m/%d dates)",
                  noise=merge(ns, ds, ast), id_width=9)


def _bookings_frame(pop: Population, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Booking events (shared by the bookings and convictions sources)."""
    n, asof = pop.n, pop.as_of
    # people without a removal order are known from an encounter (a booking) at least
    booked = np.flatnonzero((rng.random(n) < 0.38) | np.isnat(pop.facts["order_date"]))
    p = repeat_people(rng, booked, [0.6, 0.25, 0.1, 0.05])
    lo = pop.addr_from[p, 0]
    hi = np.minimum(asof - days(2), pop.facts["last_seen"][p] - days(1))
    when = uniform_dates(rng, lo, np.maximum(hi, lo + days(1)))
    off = rng.choice(len(OFFENSES), size=len(p), p=(w := OFFENSES[:, 4].astype(float)) / w.sum())
    convicted = rng.random(len(p)) < 0.55
    conv_date = when + days(rng.integers(20, 300, len(p)))
    # convicted before leaving the country or entering immigration custody
    convicted &= conv_date <= np.minimum(asof - days(1), pop.facts["last_seen"][p] - days(1))
    recent = when > asof - days(120)
    status = np.where(convicted, "convicted", np.where(recent & (rng.random(len(p)) < 0.7),
                                                        "pending", "dismissed"))
    return {"p": p, "when": when, "off": off, "convicted": convicted, "conv_date": conv_date,
            "status": status}


def county_bookings(pop: Population, rng: np.random.Generator, bk: dict) -> Source:
    p, when = bk["p"], bk["when"]
    g, m, f, ns = person_names(pop, p, rng, NameNoise(variant=0.15, typo=0.04, swap=0.03,
                                                       ascii_only=True))
    d, ds = dob(pop, p, rng, DateNoise(0.03, 0.015, 0.01, 0.01))
    name = join(pc.utf8_upper(S(f)), upper(join(g, m)), sep=", ")
    slot = slot_at(pop, p, when)
    addr, z = street_address(pop, p, slot, rng, "upper")
    city, st, zp = place(z, upper_case=True)
    homeless = rng.random(len(p)) < 0.03
    null = pa.scalar(None, pa.string())
    hl = pa.array(homeless)
    cols = {
        "BOOKING_NO": None, "NAME": name, "DOB": fmt_date(d, "%m/%d/%Y"), "SEX": S(pop.sex[p]),
        "BOOKED": fmt_date(when, "%m/%d/%Y"),
        "AGENCY": pc.if_else(hl, S(COUNTIES[rng.integers(0, len(COUNTIES), len(p))]),
                             S(geo.zip_pool().county[z] + " Sheriff's Office")),
        "CHARGES": S(OFFENSES[bk["off"], 3]), "CHARGE_STATUS": S(bk["status"]),
        "ADDRESS": pc.if_else(hl, pa.scalar("TRANSIENT"), addr),
        "CITY": pc.if_else(hl, null, city), "ST": pc.if_else(hl, null, st),
        "ZIP": pc.if_else(hl, null, zp), "FBI_NO": maybe(rng, pop.fbi[p], 0.85),
    }
    return Source("county_bookings", "encounter", "county_bookings.csv", "csv", "BOOKING_NO", "B",
                  {"full_name": "NAME", "birth_date": {"column": "DOB", "format": "%m/%d/%Y"},
                   "sex": "SEX", "encounter_date": {"column": "BOOKED", "format": "%m/%d/%Y"},
                   "agency": "AGENCY", "encounter_type": {"value": "booking"},
                   "charges": "CHARGES", "charge_status": "CHARGE_STATUS",
                   "street_address": "ADDRESS", "locality": "CITY", "region": "ST",
                   "postcode": "ZIP", "fbi_number": "FBI_NO"},
                  cols, p, "County jail bookings (CSV, 'LAST, FIRST MIDDLE' upper-case names, "
                           "US dates)", noise=merge(ns, ds), id_width=9)


def state_convictions(pop: Population, rng: np.random.Generator, bk: dict) -> Source:
    sel = bk["convicted"]
    p = bk["p"][sel]
    off = bk["off"][sel]
    g, m, f, ns = person_names(pop, p, rng, NameNoise(variant=0.12, typo=0.03, swap=0.02))
    d, ds = dob(pop, p, rng, DateNoise(0.02, 0.01, 0.01, 0.02))
    sev = OFFENSES[off, 2]
    sentence = np.where(sev == "felony", rng.integers(180, 3650, len(p)),
                        np.where(sev == "misdemeanor", rng.integers(0, 365, len(p)), 0))
    cols = {
        "DOCKET": None, "DEFENDANT": join(g, m, f), "DOB": fmt_date(d, "%Y-%m-%d"),
        "FBI": maybe(rng, pop.fbi[p], 0.9), "OFFENSE_CODE": S(OFFENSES[off, 0]),
        "OFFENSE_CATEGORY": S(OFFENSES[off, 1]), "SEVERITY": S(sev),
        "DISPOSITION_DATE": fmt_date(bk["conv_date"][sel], "%m/%d/%Y"),
        "SENTENCE_DAYS": pa.array(sentence),
    }
    return Source("state_convictions", "conviction", "state_convictions.csv", "csv", "DOCKET",
                  "CR", {"full_name": "DEFENDANT", "birth_date": "DOB", "fbi_number": "FBI",
                         "offense_code": "OFFENSE_CODE", "offense_category": "OFFENSE_CATEGORY",
                         "severity": "SEVERITY",
                         "conviction_date": {"column": "DISPOSITION_DATE", "format": "%m/%d/%Y"},
                         "sentence_days": "SENTENCE_DAYS"},
                  cols, p, "State court convictions (CSV, 'First Middle Last' names)",
                  noise=merge(ns, ds))


def _observations(pop: Population, rng: np.random.Generator, p_current: float, p_past: float,
                  slots_from: int = 0, with_span: bool = False) -> tuple[np.ndarray, ...]:
    """(person, slot, observed_on[, (lived from, lived until)]) of one system's
    observations of residences."""
    ps, ks, ds, spans = [], [], [], []
    asof = pop.as_of
    for k in range(slots_from, MAX_ADDR):
        live = pop.n_addr > k
        cur = pop.n_addr - 1 == k
        prob = np.where(cur, p_current, p_past)
        idx = np.flatnonzero(live & (rng.random(pop.n) < prob))
        start = pop.addr_from[idx, k]
        end = pop.addr_from[idx, k + 1] if k + 1 < MAX_ADDR else np.full(len(idx), NAT)
        end = np.where(np.isnat(end), asof, end)
        # nobody is observed at home after leaving the country or entering custody
        last = pop.facts["last_seen"][idx]
        keep = start < last
        idx, start, end = idx[keep], start[keep], np.minimum(end[keep], last[keep])
        ps.append(idx)
        ks.append(np.full(len(idx), k))
        ds.append(uniform_dates(rng, start, end))
        spans.append(np.stack([start, end], axis=1))
    if with_span:
        return (np.concatenate(ps), np.concatenate(ks), np.concatenate(ds),
                np.concatenate(spans))
    return np.concatenate(ps), np.concatenate(ks), np.concatenate(ds)


def utility_accounts(pop: Population, rng: np.random.Generator) -> Source:
    p, k, _, span = _observations(pop, rng, 0.6, 0.35, with_span=True)
    # an account opens soon after moving in; its last bill is the last month there
    # (for the current home: the latest billing cycle before as-of)
    opened = span[:, 0] + days(rng.integers(0, 45, len(p)))
    billed = span[:, 1] - days(rng.integers(0, 35, len(p)))
    opened = np.minimum(opened, span[:, 1])
    billed = np.maximum(billed, opened)
    closed = np.where(span[:, 1] < pop.as_of, "closed", "active").astype(object)
    when = billed
    g, m, f, ns = person_names(pop, p, rng, NameNoise(variant=0.15, typo=0.04, swap=0.03,
                                                       drop_middle=0.9))
    d, ds = dob(pop, p, rng, DateNoise(0.03, 0.02, 0.01, 0.5))  # DOB only from credit checks
    addr, z = street_address(pop, p, k, rng, "long")
    city, st, zp = place(z)
    cols = {"ACCOUNT_NO": None, "CUSTOMER_NAME": join(g, m, f), "SERVICE_ADDRESS": addr,
            "CITY": city, "STATE": st, "ZIP": zp,
            "SERVICE_START": fmt_date(opened, "%m/%d/%Y"),
            "LAST_BILLED": fmt_date(when, "%m/%d/%Y"), "STATUS": S(closed),
            "PHONE": maybe(rng, pop.phone[p], 0.7), "DOB": fmt_date(d, "%m/%d/%Y")}
    return Source("utility_accounts", "location", "utility_accounts.csv", "csv", "ACCOUNT_NO",
                  "UA", {"full_name": "CUSTOMER_NAME", "street_address": "SERVICE_ADDRESS",
                         "locality": "CITY", "region": "STATE", "postcode": "ZIP",
                         "observed_on": {"column": "LAST_BILLED", "format": "%m/%d/%Y"},
                         "location_kind": {"value": "utility"}, "phone": "PHONE",
                         "birth_date": {"column": "DOB", "format": "%m/%d/%Y"}},
                  cols, p, "Utility service accounts (CSV, 'First Last' names, service address; "
                           "observed on the last billing date)",
                  noise=merge(ns, ds))


def dmv_licences(pop: Population, rng: np.random.Generator) -> Source:
    p, k, when = _observations(pop, rng, 0.45, 0.3)
    g, m, f, ns = person_names(pop, p, rng, NameNoise(variant=0.08, typo=0.02, swap=0.02,
                                                       drop_middle=0.3, ascii_only=True))
    d, ds = dob(pop, p, rng, DateNoise(0.01, 0.0, 0.005, 0.0))
    addr, z = street_address(pop, p, k, rng, "upper")
    city, st, zp = place(z, upper_case=True)
    cols = {"txn_id": None, "dl_number": S(pop.driver_licence[p]), "last_name": upper(f),
            "first_name": upper(g), "middle_name": upper(m), "dob": fmt_date(d, "%Y%m%d"),
            "sex": S(pop.sex[p]), "street_address": addr, "city": city, "state": st,
            "zip": zp, "issued": fmt_date(when, "%Y%m%d")}
    return Source("dmv_licences", "location", "dmv_licences.csv", "csv", "txn_id", "DMV",
                  {"driver_licence": "dl_number", "family_name": "last_name",
                   "given_name": "first_name", "middle_name": "middle_name",
                   "birth_date": {"column": "dob", "format": "%Y%m%d"}, "sex": "sex",
                   "street_address": "street_address", "locality": "city", "region": "state",
                   "postcode": "zip", "observed_on": {"column": "issued", "format": "%Y%m%d"},
                   "location_kind": {"value": "residence"}},
                  cols, p, "Driver licence transactions (CSV, upper case, compact dates)",
                  noise=merge(ns, ds))


def employer_reports(pop: Population, rng: np.random.Generator) -> Source:
    emp = np.flatnonzero(pop.employed)
    p = repeat_people(rng, emp, [0.55, 0.3, 0.15])
    start = np.maximum(pop.addr_from[p, 0], pop.as_of - days(3 * 365))
    end = np.minimum(pop.as_of - days(15), pop.facts["last_seen"][p] - days(1))
    keep = end > start
    p, start, end = p[keep], start[keep], end[keep]
    when = uniform_dates(rng, start, end)
    g, _m, f, ns = person_names(pop, p, rng, NameNoise(variant=0.12, typo=0.03, swap=0.04))
    d, ds = dob(pop, p, rng, DateNoise(0.03, 0.02, 0.01, 0.1))
    num = pop.work_num[p]
    addr = join(pc.cast(pa.array(num), pa.string()), STREETS[pop.work_street[p]],
                SUFFIXES[pop.work_suffix[p]])
    city, st, zp = place(pop.work_zip[p])
    cols = {"report_id": None, "worker_first_name": S(g), "worker_last_name": S(f),
            "worker_ssn": S(pop.national_id[p]), "worker_dob": fmt_date(d, "%Y-%m-%d"),
            "work_street": addr, "work_city": city, "work_state": st, "work_zip": zp,
            "report_date": fmt_date(when, "%Y-%m-%d")}
    return Source("employer_reports", "location", "employer_reports.jsonl", "jsonl",
                  "report_id", "WR", {
                      "given_name": "worker_first_name", "family_name": "worker_last_name",
                      "national_id": "worker_ssn", "birth_date": "worker_dob",
                      "street_address": "work_street", "locality": "work_city",
                      "region": "work_state", "postcode": "work_zip",
                      "observed_on": "report_date", "location_kind": {"value": "employment"}},
                  cols, p, "Employer wage reports: the workplace address (JSONL)",
                  noise=merge(ns, ds))


def mail_forwarding(pop: Population, rng: np.random.Generator) -> Source:
    p, k, _ = _observations(pop, rng, 0.55, 0.45, slots_from=1)
    when = pop.addr_from[p, k] + days(rng.integers(-10, 20, len(p)))
    when = np.minimum(when, np.minimum(pop.as_of - days(1), pop.facts["last_seen"][p]))
    g, m, f, ns = person_names(pop, p, rng, NameNoise(variant=0.12, typo=0.04, swap=0.03,
                                                       drop_middle=0.8))
    addr, z = street_address(pop, p, k, rng, "long")
    city, st, zp = place(z)
    cols = {"request_no": None, "name": join(g, m, f), "new_address": addr, "city": city,
            "state": st, "zip": zp, "effective": fmt_date(when, "%Y-%m-%d"),
            "phone": maybe(rng, pop.phone[p], 0.6)}
    return Source("mail_forwarding", "location", "mail_forwarding.psv", "csv", "request_no",
                  "MF", {"full_name": "name", "street_address": "new_address",
                         "locality": "city", "region": "state", "postcode": "zip",
                         "observed_on": "effective", "location_kind": {"value": "mail"},
                         "phone": "phone"},
                  cols, p, "Change-of-address requests (pipe-delimited, the new address)",
                  delimiter="|", noise=ns)


def _departures(pop: Population, channels: tuple[str, ...]) -> np.ndarray:
    f_ = pop.facts
    return np.flatnonzero(np.isin(f_["departure_channel"], channels))


def exit_manifests(pop: Population, rng: np.random.Generator) -> Source:
    p = _departures(pop, ("air_exit", "sea_exit", "biometric_exit"))
    ch = pop.facts["departure_channel"][p]
    g, m, f, ns = person_names(pop, p, rng, NameNoise(variant=0.15, typo=0.02, swap=0.04,
                                                       ascii_only=True))
    d, ds = dob(pop, p, rng, DateNoise(0.01, 0.005, 0.005, 0.0))
    carrier = np.empty(len(p), dtype=object)
    port = np.empty(len(p), dtype=object)
    for c in ("air_exit", "sea_exit", "biometric_exit"):
        mm = ch == c
        carrier[mm] = CARRIERS[c][rng.integers(0, len(CARRIERS[c]), mm.sum())]
        port[mm] = PORTS[c][rng.integers(0, len(PORTS[c]), mm.sum())]
    removed = pop.scenario[p] == _scn("removed")
    carrier[removed] = "ICE AIR CHARTER"
    doc = np.where(pop.passport[p] != "", pop.passport[p], "")
    cols = {"manifest_row_id": None, "SURNAME": upper(f), "GIVEN_NAMES": upper(join(g, m)),
            "BIRTH_DATE": fmt_date(d, "%d%b%Y", upper=True),
            "PASSPORT_NO": S(doc), "PASSPORT_COUNTRY": S(np.where(doc != "", pop.nationality[p], "")),
            "NATIONALITY": S(pop.nationality[p]),
            "DEPARTURE_DATE": fmt_date(pop.facts["departure_date"][p], "%Y-%m-%d"),
            "CHANNEL": S(ch), "PORT": S(port), "CARRIER": S(carrier),
            "DESTINATION": S(pop.nationality[p])}
    return Source("exit_manifests", "departure", "exit_manifests.csv", "csv", "manifest_row_id",
                  "APIS", {"family_name": "SURNAME", "given_name": "GIVEN_NAMES",
                           "birth_date": {"column": "BIRTH_DATE", "format": "%d%b%Y"},
                           "passport_number": "PASSPORT_NO", "passport_country": "PASSPORT_COUNTRY",
                           "nationality": "NATIONALITY", "departure_date": "DEPARTURE_DATE",
                           "channel": "CHANNEL", "port": "PORT", "carrier": "CARRIER",
                           "destination_country": "DESTINATION",
                           "document_used": {"value": "passport"}},
                  cols, p, "Outbound air/sea passenger manifests and biometric exit "
                           "(CSV, APIS dates like 05MAR1984)", noise=merge(ns, ds), id_width=10)


def partner_land_exits(pop: Population, rng: np.random.Generator) -> Source:
    p = _departures(pop, ("land_exit",))
    g, m, f, ns = person_names(pop, p, rng, NameNoise(variant=0.1, typo=0.03, swap=0.03,
                                                       shorten=0.1))
    d, ds = dob(pop, p, rng, DateNoise(0.02, 0.01, 0.01, 0.01))
    cols = {"folio": None, "apellidos": upper(f), "nombres": upper(join(g, m)),
            "fecha_nacimiento": fmt_date(d, "%d/%m/%Y"), "nacionalidad": S(pop.nationality[p]),
            "fecha_entrada": fmt_date(pop.facts["departure_date"][p], "%d/%m/%Y"),
            "punto_de_entrada": S(LAND_PORTS[rng.integers(0, len(LAND_PORTS), len(p))]),
            "pasaporte": maybe(rng, pop.passport[p], 0.4)}
    return Source("partner_land_exits", "departure", "partner_land_exits.csv", "csv", "folio",
                  "MXE", {"family_name": "apellidos", "given_name": "nombres",
                          "birth_date": {"column": "fecha_nacimiento", "format": "%d/%m/%Y"},
                          "nationality": "nacionalidad",
                          "departure_date": {"column": "fecha_entrada", "format": "%d/%m/%Y"},
                          "port": "punto_de_entrada", "passport_number": "pasaporte",
                          "channel": {"value": "land_exit"},
                          "destination_country": {"value": "MX"}},
                  cols, p, "Entries recorded by the neighbouring country (= exits here): "
                           "Latin-1, semicolon-separated, day-first dates",
                  encoding="latin-1", delimiter=";", noise=merge(ns, ds))


def consular_verifications(pop: Population, rng: np.random.Generator) -> Source:
    p = _departures(pop, ("consular_verification",))
    g, m, f, ns = person_names(pop, p, rng, NameNoise(variant=0.1, typo=0.02))
    d, ds = dob(pop, p, rng, DateNoise(0.01, 0.005, 0.005, 0.0))
    a, ast = anum(pop, p, rng, 0.3, "mixed")
    cols = {"verification_id": None, "given_names": S(join(g, m)), "surnames": S(f),
            "birth_date": fmt_date(d, "%Y-%m-%d"), "a_number": a,
            "passport_number": maybe(rng, pop.passport[p], 0.8),
            "verified_in_country": S(pop.nationality[p]),
            "verified_on": fmt_date(pop.facts["departure_date"][p], "%Y-%m-%d"),
            "post": S(CONSULATES[rng.integers(0, len(CONSULATES), len(p))])}
    return Source("consular_verifications", "departure", "consular_verifications.jsonl", "jsonl",
                  "verification_id", "CV", {
                      "given_name": "given_names", "family_name": "surnames",
                      "birth_date": "birth_date", "a_number": "a_number",
                      "passport_number": "passport_number",
                      "destination_country": "verified_in_country",
                      "departure_date": "verified_on", "port": "post",
                      "channel": {"value": "consular_verification"}},
                  cols, p, "In-person consular verification of presence abroad (JSONL)",
                  noise=merge(ns, ds, ast))


def self_departure_app(pop: Population, rng: np.random.Generator) -> Source:
    p = np.flatnonzero(~np.isnat(pop.facts["claim_date"]))
    g, m, f, ns = person_names(pop, p, rng, NameNoise(variant=0.15, typo=0.05, swap=0.05,
                                                       drop_middle=0.7))
    d, ds = dob(pop, p, rng, DateNoise(0.04, 0.02, 0.02, 0.02))
    a, ast = anum(pop, p, rng, 0.25, "mixed")
    from casegraph.synth.noise import strip_accents

    local = np.array([strip_accents(x).lower().replace(" ", "") for x in pop.given[p]], dtype=object)
    email = np.where(pop.email[p] != "", local + "." + pop.email[p] + "@example.com", "")
    cols = {"submission_id": None, "full_name": join(g, m, f),
            "date_of_birth": fmt_date(d, "%Y-%m-%d"), "a_number": a,
            "phone": maybe(rng, pop.phone[p], 0.8), "email": S(email),
            "departure_date": fmt_date(pop.facts["claim_date"][p], "%Y-%m-%d"),
            "destination_country": S(pop.nationality[p])}
    return Source("self_departure_app", "departure", "self_departure_app.jsonl", "jsonl",
                  "submission_id", "APP-", {
                      "full_name": "full_name", "birth_date": "date_of_birth",
                      "a_number": "a_number", "phone": "phone", "email": "email",
                      "departure_date": "departure_date",
                      "destination_country": "destination_country",
                      "channel": {"value": "self_report"}},
                  cols, p, "Self-reported departures from the phone app (JSONL): claims only",
                  noise=merge(ns, ds, ast))


def status_evidence(pop: Population, rng: np.random.Generator) -> Source:
    p = np.flatnonzero(pop.facts["status_type"] != "")
    g, m, f, ns = person_names(pop, p, rng, NameNoise(variant=0.08, typo=0.02, swap=0.02))
    d, ds = dob(pop, p, rng, DateNoise(0.01, 0.005, 0.005, 0.0))
    a, ast = anum(pop, p, rng, 0.05, "A9")
    st = pop.facts["status_type"][p]
    detail = np.where(np.isin(st, ["t_visa_applicant", "u_visa_applicant", "vawa_self_petitioner"]),
                      "I-914/I-918/I-360 receipt on file (protected: 8 USC 1367)",
                      np.where(st == "naturalized", "N-550 certificate", ""))
    cols = {"receipt_no": None, "family_name": S(f), "given_name": S(g), "middle": S(m),
            "dob": fmt_date(d, "%m/%d/%Y"), "a_number": a, "status_type": S(st),
            "status_date": fmt_date(pop.facts["status_date"][p], "%m/%d/%Y"),
            "status_detail": S(detail)}
    return Source("uscis_status", "status", "status_evidence.csv", "csv", "receipt_no", "EAC",
                  {"family_name": "family_name", "given_name": "given_name",
                   "middle_name": "middle", "birth_date": {"column": "dob", "format": "%m/%d/%Y"},
                   "a_number": "a_number", "status_type": "status_type",
                   "status_date": {"column": "status_date", "format": "%m/%d/%Y"},
                   "status_detail": "status_detail"},
                  cols, p, "Citizenship, naturalization, residence and protected-status evidence",
                  noise=merge(ns, ds, ast), id_width=10)


def detention_roster(pop: Population, rng: np.random.Generator, n_fac: int,
                     fac_weight: np.ndarray, fac_ids: np.ndarray) -> Source:
    f_ = pop.facts
    cur = np.flatnonzero(~np.isnat(f_["book_in"]))
    past = np.flatnonzero(~np.isnat(f_["past_book_in"]))
    p = np.concatenate([cur, past])
    book_in = np.concatenate([f_["book_in"][cur], f_["past_book_in"][past]])
    book_out = np.concatenate([np.full(len(cur), NAT), f_["past_book_out"][past]])
    fac = rng.choice(n_fac, size=len(p), p=fac_weight)
    g, _m, f, ns = person_names(pop, p, rng, NameNoise(variant=0.1, typo=0.02, swap=0.02,
                                                       ascii_only=True))
    d, ds = dob(pop, p, rng, DateNoise(0.01, 0.005, 0.005, 0.0))
    a, ast = anum(pop, p, rng, 0.01, "dashed")
    yn = np.array(["N", "Y"], dtype=object)
    cols = {"detainee_no": None, "name": join(upper(f), upper(g), sep=", "),
            "dob": fmt_date(d, "%m/%d/%Y"), "a_number": a, "nationality": S(pop.nationality[p]),
            "sex": S(pop.sex[p]), "facility_id": S(fac_ids[fac]),
            "book_in": fmt_date(book_in, "%Y-%m-%d"), "book_out": fmt_date(book_out, "%Y-%m-%d"),
            "travel_document": S(f_["travel_document"][p]),
            "medical_hold": S(yn[f_["medical_hold"][p].astype(int)]),
            "legal_hold": S(yn[f_["legal_hold"][p].astype(int)])}
    src = Source("detention_roster", "detention", "detention_roster.csv", "csv", "detainee_no",
                 "D", {"full_name": "name", "birth_date": {"column": "dob", "format": "%m/%d/%Y"},
                       "a_number": "a_number", "nationality": "nationality", "sex": "sex",
                       "facility_id": "facility_id", "book_in_date": "book_in",
                       "book_out_date": "book_out", "travel_document": "travel_document",
                       "medical_hold": "medical_hold", "legal_hold": "legal_hold"},
                 cols, p, "Detention roster: current and past book-ins (CSV, Y/N holds)",
                 noise=merge(ns, ds, ast))
    src.columns["_facility"] = fac  # used for the truth of custody; dropped before writing
    return src


def _scn(name: str) -> int:
    from casegraph.synth.story import SCENARIO_NAMES

    return SCENARIO_NAMES.index(name)


# ---- things, not people ---------------------------------------------------------------

def facilities(pop: Population, rng: np.random.Generator, n_custody: int) -> Source:
    pool = geo.zip_pool()
    n_fac = int(np.clip(round(n_custody / 200), 4, 200))
    states = np.array(geo.FACILITY_STATES, dtype=object)[rng.integers(0, len(geo.FACILITY_STATES), n_fac)]
    zi = np.array([_zip_in(rng, s) for s in states])
    weight = rng.gamma(3.0, 1.0, n_fac)
    weight /= weight.sum()
    capacity = np.maximum(20, np.round(weight * max(n_custody, 1) * rng.uniform(1.05, 1.45, n_fac)
                                       / 10) * 10).astype(np.int64)
    style = np.array(geo.FACILITY_STYLES, dtype=object)[rng.integers(0, len(geo.FACILITY_STYLES), n_fac)]
    name = pool.city[zi] + " " + style
    ids = np.array([f"FAC-{s}-{i + 1:03d}" for i, s in enumerate(states)], dtype=object)
    cols = {"facility_id": S(ids), "name": S(name), "capacity": pa.array(capacity),
            "city": S(pool.city[zi]), "state": S(pool.state[zi]), "zip": S(pool.zip[zi]),
            "lat": pa.array(np.round(pool.lat[zi] + rng.normal(0, 0.01, n_fac), 5)),
            "lon": pa.array(np.round(pool.lon[zi] + rng.normal(0, 0.01, n_fac), 5))}
    src = Source("facilities", "facility", "facilities.csv", "csv", "facility_id", "",
                 {"facility_id": "facility_id", "name": "name", "capacity": "capacity",
                  "locality": "city", "region": "state", "postcode": "zip",
                  "latitude": "lat", "longitude": "lon"},
                 cols, np.full(n_fac, -1), "Detention facilities with capacity")
    src.columns["_weight"] = weight
    return src


def _zip_in(rng: np.random.Generator, state: str) -> int:
    idx = geo.zips_in_state(state)
    return int(idx[rng.integers(0, len(idx))])


def transport_legs(pop: Population, rng: np.random.Generator, flyable_nat: np.ndarray,
                   fac: Source) -> Source:
    """Legs over the 14 days after as-of, sized to the detainees who could fly (removable,
    travel document ready, no hold), by country."""
    countries, counts = np.unique(flyable_nat, return_counts=True) if len(flyable_nat) \
        else (np.array(["MX"], dtype=object), np.array([10]))
    fac_ids = np.asarray(fac.columns["facility_id"].to_pylist(), dtype=object)
    fac_states = np.asarray(fac.columns["state"].to_pylist(), dtype=object)
    border = fac_ids[np.isin(fac_states, ["TX", "AZ", "CA", "NM"])]
    if not len(border):
        border = fac_ids
    airports = np.array([a[0] for a in geo.AIRPORTS], dtype=object)
    rows: list[tuple] = []
    top = set(countries[np.argsort(-counts, kind="stable")[:1]])
    for c, k in zip(countries, counts):
        # seats for roughly the detainees who could fly (some countries over-, some
        # under-served), so a good plan fills most seats and a poor one does not
        demand = int(np.ceil(k * rng.uniform(0.8, 1.15)))
        first = c in top and demand >= 15  # the main destination gets a charter
        while demand > 0:
            r = rng.random()
            if first:
                first = False
                mode, seats = "charter_air", (135 if demand >= 100 else 70)
                origin = airports[rng.integers(0, 7)]
                cost = float(rng.integers(90, 260) * 1000)
            elif c == "MX" and r < 0.35:
                mode, seats, origin = "bus", 45, border[rng.integers(0, len(border))]
                cost = float(rng.integers(3500, 8000))
            elif demand >= 60 and r < 0.85:
                mode = "charter_air"
                seats = 135 if rng.random() < 0.75 else 70
                origin = airports[rng.integers(0, 7)]
                cost = float(rng.integers(90, 260) * 1000)
            else:
                mode, seats = "commercial_air", int(rng.integers(2, 9))
                origin = airports[rng.integers(0, len(airports))]
                cost = float(seats * rng.integers(450, 1100))
            day = int(rng.integers(1, 15))
            hour, minute = int(rng.integers(5, 22)), int(rng.choice([0, 15, 30, 45]))
            when = (pop.as_of + np.timedelta64(day, "D")).astype("datetime64[m]") \
                + np.timedelta64(hour * 60 + minute, "m")
            rows.append((mode, origin, c, str(when) + ":00", seats, cost))
            demand -= seats
    order = rng.permutation(len(rows))
    rows = [rows[i] for i in order]
    ids = np.array([f"LEG-{i + 1:05d}" for i in range(len(rows))], dtype=object)
    col = list(zip(*rows)) if rows else [[]] * 6
    cols = {"leg_id": S(ids), "mode": S(np.array(col[0], dtype=object)),
            "origin": S(np.array(col[1], dtype=object)),
            "destination_country": S(np.array(col[2], dtype=object)),
            "departs_at": S(np.array(col[3], dtype=object)),
            "seats": pa.array(np.array(col[4], dtype=np.int64)),
            "cost": pa.array(np.array(col[5], dtype=float))}
    return Source("transport_legs", "transport_leg", "transport_legs.csv", "csv", "leg_id", "",
                  {"leg_id": "leg_id", "mode": "mode", "origin": "origin",
                   "destination_country": "destination_country", "departs_at": "departs_at",
                   "seats": "seats", "cost": "cost"},
                  cols, np.full(len(rows), -1),
                  "Scheduled removal transport (charter, commercial, bus) for the next 14 days; "
                  "origin is an airport code (see truth/airports.csv) or a facility id")


def sensitive_sites(pop: Population, rng: np.random.Generator) -> tuple[Source, np.ndarray]:
    """Sites near ~3% of current homes (same ZIP, within ~300 m) plus background sites."""
    pool = geo.zip_pool()
    cur = pop.n_addr - 1
    near = np.flatnonzero(rng.random(pop.n) < 0.03)
    z_near = pop.addr_zip[near, cur[near]]
    n_bg = max(5, pop.n // 400)
    z_bg = geo.sample_zips(rng, n_bg)
    z = np.concatenate([z_near, z_bg])
    m = len(z)
    kinds = np.array(["school", "hospital", "place_of_worship", "courthouse", "shelter"], dtype=object)
    kind = kinds[rng.choice(5, size=m, p=[0.4, 0.2, 0.3, 0.05, 0.05])]
    label = np.empty(m, dtype=object)
    for k in kinds:
        mm = kind == k
        opts = np.array(geo.SITE_NAMES[k], dtype=object)
        label[mm] = opts[rng.integers(0, len(opts), mm.sum())]
    street = STREETS[rng.integers(0, len(STREETS), m)]
    name = np.where(np.isin(kind, ["school", "place_of_worship"]),
                    street + " " + label, pool.city[z] + " " + label)
    # within ~300 m of the ZIP centroid (where a ZIP-level geocoder puts the homes)
    ang = rng.uniform(0, 2 * np.pi, m)
    dist_m = np.where(np.arange(m) < len(near), rng.uniform(20, 300, m), rng.uniform(300, 5000, m))
    lat = pool.lat[z] + dist_m * np.cos(ang) / 111_000
    lon = pool.lon[z] + dist_m * np.sin(ang) / (111_000 * np.cos(np.radians(pool.lat[z])))
    addr = join(pc.cast(pa.array(rng.integers(1, 9999, m)), pa.string()), street,
                SUFFIXES[rng.integers(0, len(SUFFIXES), m)])
    cols = {"site_id": None, "site_kind": S(kind), "name": S(name), "street_address": addr,
            "city": S(pool.city[z]), "state": S(pool.state[z]), "zip": S(pool.zip[z]),
            "latitude": pa.array(np.round(lat, 6)), "longitude": pa.array(np.round(lon, 6))}
    src = Source("sensitive_sites", "sensitive_site", "sensitive_sites.csv", "csv", "site_id",
                 "SITE-", {"site_kind": "site_kind", "name": "name",
                           "street_address": "street_address", "locality": "city",
                           "region": "state", "postcode": "zip", "latitude": "latitude",
                           "longitude": "longitude"},
                 cols, np.full(m, -1), "Schools, hospitals, places of worship, courthouses, "
                                       "shelters", id_width=6)
    return src, near
