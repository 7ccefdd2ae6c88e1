"""The synthetic population and each person's true story: identity, homes, legal history.

Everything is a numpy array over persons (vectorised; no per-person Python), so a
million people take seconds. The story is the ground truth; record systems later see
it through noise. :func:`evaluate_gates` computes each person's true eligibility from
the story's facts alone, independently of how the story was drawn.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from casegraph.synth import geo
from casegraph.synth.names import CULTURES

NAT = np.datetime64("NaT", "D")
GATES = ("final_order", "no_automatic_stay", "no_granted_stay", "no_citizenship_or_status",
         "no_protected_application", "not_already_resolved")

# name, weight, what the scenario is meant to produce (checked by the tests against the
# independent gate evaluation): first failing gate, or "" for eligible.
SCENARIOS: tuple[tuple[str, float, str], ...] = (
    ("no_order", 0.08, "final_order"),
    ("final_appeal_dismissed", 0.11, ""),
    ("final_appeal_waived", 0.09, ""),
    ("final_period_lapsed", 0.11, ""),
    ("in_absentia", 0.11, ""),
    ("in_absentia_mtr_denied", 0.02, ""),
    ("appeal_window_open", 0.02, "final_order"),
    ("appeal_pending", 0.04, "final_order"),
    ("appeal_sustained", 0.01, "final_order"),
    ("in_absentia_mtr_pending", 0.03, "no_automatic_stay"),
    ("other_motion_pending", 0.01, ""),
    ("petition_no_stay", 0.02, ""),
    ("petition_with_stay", 0.02, "no_granted_stay"),
    ("stay_in_force", 0.02, "no_granted_stay"),
    ("stay_ended", 0.03, ""),
    ("relief_granted", 0.02, "no_citizenship_or_status"),
    ("order_vacated", 0.01, "final_order"),
    ("naturalized_old_order", 0.02, "no_citizenship_or_status"),
    ("us_citizen_evidence", 0.01, "no_citizenship_or_status"),
    ("lpr_after_order", 0.01, "no_citizenship_or_status"),
    ("tps_after_order", 0.02, "no_citizenship_or_status"),
    ("protected_applicant", 0.03, "no_protected_application"),
    ("in_custody", 0.06, "not_already_resolved"),
    ("in_custody_stay_after_book_in", 0.01, "no_granted_stay"),
    ("in_custody_appeal_pending", 0.005, "final_order"),
    ("removed", 0.02, "not_already_resolved"),
    ("departed_verified", 0.03, "not_already_resolved"),
    ("departed_claimed", 0.03, ""),
    ("departed_claimed_then_verified", 0.01, "not_already_resolved"),
)
SCENARIO_NAMES = tuple(s[0] for s in SCENARIOS)
SCENARIO_EXPECT = {s[0]: s[2] for s in SCENARIOS}

OFFICIAL_EXITS = np.array(["air_exit", "sea_exit", "land_exit", "biometric_exit",
                           "consular_verification"], dtype=object)
EXIT_P = np.array([0.45, 0.05, 0.25, 0.15, 0.10])
COURTS = np.array([
    ("HOU", "Houston Immigration Court"), ("SAN", "San Antonio Immigration Court"),
    ("LOS", "Los Angeles Immigration Court"), ("NYC", "New York Broadway Immigration Court"),
    ("MIA", "Miami Krome Immigration Court"), ("ELP", "El Paso Immigration Court"),
    ("ATL", "Atlanta Immigration Court"), ("CHI", "Chicago Immigration Court"),
    ("NEW", "Newark Immigration Court"), ("SFR", "San Francisco Immigration Court"),
    ("PHO", "Phoenix Immigration Court"), ("DAL", "Dallas Immigration Court"),
    ("OAK", "Oakdale Immigration Court"), ("SEA", "Seattle Immigration Court"),
], dtype=object)


def days(x: np.ndarray | int) -> np.ndarray:
    return np.asarray(x).astype("timedelta64[D]")


@dataclass
class Population:
    """Persons (index i) and their true story. Dates are numpy datetime64[D] (NaT = none)."""

    n: int
    as_of: np.datetime64
    person_id: np.ndarray
    culture: np.ndarray          # index into CULTURE_NAMES
    sex: np.ndarray
    given: np.ndarray
    middle: np.ndarray           # "" when none
    family: np.ndarray
    birth_date: np.ndarray
    nationality: np.ndarray
    a_number: np.ndarray         # int64, unique
    passport: np.ndarray         # "" when none
    fbi: np.ndarray
    phone: np.ndarray
    national_id: np.ndarray      # "" when none
    driver_licence: np.ndarray
    email: np.ndarray
    # residences: up to MAX_ADDR slots, slot n_addr-1 is the current one
    n_addr: np.ndarray
    addr_zip: np.ndarray         # (n, MAX_ADDR) index into geo.zip_pool()
    addr_num: np.ndarray
    addr_street: np.ndarray
    addr_suffix: np.ndarray
    addr_unit: np.ndarray        # object, "" when none
    addr_from: np.ndarray        # datetime64[D], NaT for unused slots
    employed: np.ndarray
    work_zip: np.ndarray
    work_num: np.ndarray
    work_street: np.ndarray
    work_suffix: np.ndarray
    twin_of: np.ndarray          # index or -1
    namesake_of: np.ndarray      # index or -1
    shared_address: np.ndarray   # bool: current home copied from an unrelated person
    scenario: np.ndarray         # index into SCENARIO_NAMES
    facts: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def current_slot(self) -> np.ndarray:
        return self.n_addr - 1


CULTURE_NAMES = tuple(CULTURES)
MAX_ADDR = 4


def _zipf(n: int, s: float = 0.8) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** s
    return w / w.sum()


def _uniform_days(rng: np.random.Generator, lo: np.ndarray | int, hi: np.ndarray | int,
                  size: int) -> np.ndarray:
    lo = np.broadcast_to(np.asarray(lo, dtype=np.int64), (size,))
    hi = np.broadcast_to(np.asarray(hi, dtype=np.int64), (size,))
    hi = np.maximum(hi, lo + 1)
    return lo + (rng.random(size) * (hi - lo)).astype(np.int64)


def zpad(x: np.ndarray, width: int = 0, prefix: str = "") -> np.ndarray:
    """Integers as zero-padded strings (object array), via Arrow (faster than numpy's)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    s = pc.cast(pa.array(np.asarray(x, dtype=np.int64)), pa.string())
    if width:
        s = pc.utf8_lpad(s, width, "0")
    if prefix:
        s = pc.binary_join_element_wise(pa.scalar(prefix), s, "")
    return s.to_numpy(zero_copy_only=False).astype(object)


def _feminine(family: str) -> str:
    for end, fem in (("ov", "ova"), ("ev", "eva"), ("in", "ina"), ("sky", "skaya")):
        if family.endswith(end):
            return family[: -len(end)] + fem
    return family


def make_population(n: int, as_of: dt.date, seed: int) -> Population:
    ss = np.random.SeedSequence(seed)
    r_id, r_name, r_addr, r_story, r_pair = (np.random.default_rng(s) for s in ss.spawn(5))
    asof = np.datetime64(as_of, "D")

    # ---- who -------------------------------------------------------------------------
    cw = np.array([CULTURES[c]["weight"] for c in CULTURE_NAMES], dtype=float)
    culture = r_name.choice(len(CULTURE_NAMES), size=n, p=cw / cw.sum()).astype(np.int8)
    sex = np.where(r_name.random(n) < 0.62, "M", "F").astype(object)
    given = np.empty(n, dtype=object)
    middle = np.full(n, "", dtype=object)
    family = np.empty(n, dtype=object)
    nationality = np.empty(n, dtype=object)
    for ci, cname in enumerate(CULTURE_NAMES):
        c = CULTURES[cname]
        mask = culture == ci
        for s in ("M", "F"):
            m = mask & (sex == s)
            k = int(m.sum())
            pool = np.array(c[s], dtype=object)
            given[m] = pool[r_name.choice(len(pool), size=k, p=_zipf(len(pool)))]
            mid_pool = np.array(c.get(f"middle_{s}", c[s]), dtype=object)
            mid_rate = {"vietnamese": 0.9, "chinese": 0.0, "hispanic": 0.5,
                        "eastern_european": 0.15}.get(cname, 0.35)
            has_mid = r_name.random(k) < mid_rate
            mids = mid_pool[r_name.integers(0, len(mid_pool), size=k)]
            mids = np.where(has_mid & (mids != given[m]), mids, "")
            middle[m] = mids
        k = int(mask.sum())
        fpool = np.array(c["family"], dtype=object)
        fam = fpool[r_name.choice(len(fpool), size=k, p=_zipf(len(fpool), 0.7))]
        if c.get("compound"):
            second = fpool[r_name.choice(len(fpool), size=k, p=_zipf(len(fpool), 0.7))]
            comp = (r_name.random(k) < c["compound"]) & (second != fam)
            fam = np.where(comp, fam + " " + second, fam)
        if c.get("feminine_family"):
            fem = sex[mask] == "F"
            fam = fam.copy()
            fam[fem] = [_feminine(x) for x in fam[fem]]
        family[mask] = fam
        codes = np.array([x[0] for x in c["countries"]], dtype=object)
        p = np.array([x[1] for x in c["countries"]], dtype=float)
        nationality[mask] = codes[r_name.choice(len(codes), size=k, p=p / p.sum())]

    age_days = ((18 + r_id.gamma(4.0, 4.5, size=n).clip(0, 55)) * 365.25).astype(np.int64)
    birth_date = asof - days(age_days)

    # ---- identifiers -----------------------------------------------------------------
    cand = np.unique(r_id.integers(10_000_000, 250_000_000, size=int(n * 1.05) + 100))
    a_number = r_id.permutation(cand)[:n].astype(np.int64)
    has_pp = r_id.random(n) < 0.7
    pp_digits = r_id.integers(10_000_000, 99_999_999, size=n)
    passport = np.where(has_pp, nationality + zpad(pp_digits, 8), "")
    fbi_num = r_id.integers(100_000, 999_999, size=n)
    letters = np.array(list("ABCDEFGHJKLMNPRSTUVWXY"), dtype=object)
    fbi = (zpad(fbi_num, 6) + letters[r_id.integers(0, 22, n)]
           + letters[r_id.integers(0, 22, n)] + zpad(r_id.integers(0, 10, n)))
    area = r_id.integers(201, 990, size=n)
    phone = (zpad(area, 3) + "-" + zpad(r_id.integers(200, 999, n), 3) + "-"
             + zpad(r_id.integers(0, 10000, n), 4))
    has_nid = r_id.random(n) < 0.5
    national_id = np.where(
        has_nid, "9" + zpad(r_id.integers(0, 100, n), 2) + "-"
        + zpad(r_id.integers(70, 99, n), 2) + "-" + zpad(r_id.integers(0, 10000, n), 4), "")
    driver_licence = zpad(r_id.integers(0, 10**9, n), 9)
    email_user = zpad(r_id.integers(0, 10000, n), 4)
    email = np.where(r_id.random(n) < 0.4, email_user, "")

    # ---- twins and namesakes (pairs on index 4k,4k+1 and 4k+2,4k+3) -------------------
    twin_of = np.full(n, -1, dtype=np.int64)
    namesake_of = np.full(n, -1, dtype=np.int64)
    quads = n // 4
    n_twin = min(quads, max(2, int(n * 0.004)))
    n_name = min(quads, max(2, int(n * 0.008)))
    if quads:
        tk = r_pair.choice(quads, size=n_twin, replace=False)
        a, b = 4 * tk, 4 * tk + 1
        twin_of[b] = a
        for arr in (culture, family, birth_date, nationality):
            arr[b] = arr[a]
        sex[b] = np.where(r_pair.random(n_twin) < 0.5, sex[a], np.where(sex[a] == "M", "F", "M"))
        for j, (ia, ib) in enumerate(zip(a, b)):
            c = CULTURES[CULTURE_NAMES[culture[ia]]]
            pool = c[sex[ib]]
            g = pool[int(r_pair.integers(0, len(pool)))]
            if g == given[ia]:
                g = pool[(pool.index(g) + 1) % len(pool)]
            given[ib] = g
            middle[ib] = "" if middle[ib] == given[ib] else middle[ib]
            if c.get("feminine_family"):
                base = family[ia]
                family[ib] = _feminine(base) if sex[ib] == "F" else base.replace("ova", "ov")
        nk = r_pair.choice(quads, size=n_name, replace=False)
        a, b = 4 * nk + 2, 4 * nk + 3
        namesake_of[b] = a
        for arr in (culture, sex, given, family, nationality):
            arr[b] = arr[a]
        middle[b] = ""
        middle[a] = ""
        year_start = birth_date[a].astype("datetime64[Y]").astype("datetime64[D]")
        doy = (birth_date[a] - year_start).astype(np.int64)
        birth_date[b] = year_start + days((doy + r_pair.integers(20, 340, n_name)) % 365)

    # ---- homes -----------------------------------------------------------------------
    n_addr = r_addr.choice([1, 2, 3, 4], size=n, p=[0.42, 0.30, 0.18, 0.10])
    adult = birth_date + days(int(16 * 365.25))
    arrive = asof - days(_uniform_days(r_addr, 200, 9000, n))
    arrive = np.maximum(arrive, adult)
    arrive = np.minimum(arrive, asof - days(120))
    span = (asof - days(30) - arrive).astype(np.int64)
    offs = np.sort(r_addr.random((n, MAX_ADDR - 1)), axis=1) * span[:, None]
    addr_from = np.empty((n, MAX_ADDR), dtype="datetime64[D]")
    addr_from[:, 0] = arrive
    addr_from[:, 1:] = arrive[:, None] + offs.astype(np.int64).astype("timedelta64[D]")
    # at least 60 days in each home
    for k in range(1, MAX_ADDR):
        addr_from[:, k] = np.maximum(addr_from[:, k], addr_from[:, k - 1] + days(60))
    unused = np.arange(MAX_ADDR)[None, :] >= n_addr[:, None]
    addr_from[unused] = NAT
    # the latest move must be before as-of
    last = addr_from[np.arange(n), n_addr - 1]
    too_late = last > asof - days(20)
    n_addr = np.where(too_late, np.maximum(n_addr - 1, 1), n_addr)
    unused = np.arange(MAX_ADDR)[None, :] >= n_addr[:, None]
    addr_from[unused] = NAT

    pool = geo.zip_pool()
    addr_zip = np.empty((n, MAX_ADDR), dtype=np.int64)
    addr_zip[:, 0] = geo.sample_zips(r_addr, n)
    # most moves stay in the same state: pick a ZIP of the same state
    state_sorted = np.argsort(pool.state, kind="stable")
    st_codes, st_start, st_count = np.unique(pool.state[state_sorted], return_index=True,
                                             return_counts=True)
    st_idx_of_zip = np.searchsorted(st_codes, pool.state)
    for k in range(1, MAX_ADDR):
        same_state = r_addr.random(n) < 0.75
        prev_st = st_idx_of_zip[addr_zip[:, k - 1]]
        local = state_sorted[st_start[prev_st] + (r_addr.random(n) * st_count[prev_st]).astype(np.int64)]
        addr_zip[:, k] = np.where(same_state, local, geo.sample_zips(r_addr, n))
    addr_num = r_addr.integers(1, 9999, size=(n, MAX_ADDR))
    addr_street = r_addr.integers(0, len(geo.STREETS), size=(n, MAX_ADDR))
    addr_suffix = r_addr.integers(0, len(geo.SUFFIXES), size=(n, MAX_ADDR))
    unit_kind = r_addr.random((n, MAX_ADDR))
    unit_no = r_addr.integers(1, 40, size=(n, MAX_ADDR))
    unit_letter = np.array(list("ABCD"), dtype=object)[r_addr.integers(0, 4, size=(n, MAX_ADDR))]
    unit_str = zpad(unit_no.ravel()).reshape(unit_no.shape)
    addr_unit = np.where(unit_kind < 0.25, "Apt " + unit_str,
                         np.where(unit_kind < 0.32, "Unit " + unit_str + unit_letter, ""))

    # twins live together (same homes)
    tb = np.flatnonzero(twin_of >= 0)
    ta = twin_of[tb]
    for arr in (addr_zip, addr_num, addr_street, addr_suffix, addr_unit, addr_from):
        arr[tb] = arr[ta]
    n_addr[tb] = n_addr[ta]
    # some unrelated people share a current address (rooming houses, shelters)
    cur = n_addr - 1
    shared = (r_addr.random(n) < 0.015) & (twin_of < 0)
    shared &= ~np.isin(np.arange(n), ta)
    si = np.flatnonzero(shared)
    if len(si):
        donors = r_addr.integers(0, n, size=len(si))
        for arr in (addr_zip, addr_num, addr_street, addr_suffix, addr_unit):
            arr[si, cur[si]] = arr[donors, cur[donors]]

    employed = r_addr.random(n) < 0.45
    cur_st = st_idx_of_zip[addr_zip[np.arange(n), cur]]
    work_zip = state_sorted[st_start[cur_st] + (r_addr.random(n) * st_count[cur_st]).astype(np.int64)]
    work_num = r_addr.integers(100, 20000, size=n)
    work_street = r_addr.integers(0, len(geo.STREETS), size=n)
    work_suffix = r_addr.integers(0, len(geo.SUFFIXES), size=n)

    person_id = zpad(np.arange(1, n + 1), 7, "T")
    sw = np.array([s[1] for s in SCENARIOS])
    scenario = r_story.choice(len(SCENARIOS), size=n, p=sw / sw.sum()).astype(np.int16)

    pop = Population(
        n=n, as_of=asof, person_id=person_id, culture=culture, sex=sex, given=given,
        middle=middle, family=family, birth_date=birth_date, nationality=nationality,
        a_number=a_number, passport=passport, fbi=fbi, phone=phone, national_id=national_id,
        driver_licence=driver_licence, email=email, n_addr=n_addr, addr_zip=addr_zip,
        addr_num=addr_num, addr_street=addr_street, addr_suffix=addr_suffix,
        addr_unit=addr_unit, addr_from=addr_from, employed=employed, work_zip=work_zip,
        work_num=work_num, work_street=work_street, work_suffix=work_suffix, twin_of=twin_of,
        namesake_of=namesake_of, shared_address=shared, scenario=scenario)
    pop.facts = _legal_story(pop, r_story)
    # everyone arrived before their removal order (children arrive with their families)
    od = pop.facts["order_date"]
    need = od - days(_uniform_days(r_story, 30, 1500, n))
    need = np.maximum(need, birth_date)
    first = pop.addr_from[:, 0]
    pop.addr_from[:, 0] = np.where(~np.isnat(od) & (need < first), need, first)
    return pop


def _legal_story(pop: Population, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Dates and kinds of every legal event, drawn per scenario."""
    n, asof = pop.n, pop.as_of
    sc = np.array(SCENARIO_NAMES, dtype=object)[pop.scenario]

    def is_(*names: str) -> np.ndarray:
        return np.isin(sc, names)

    def nat() -> np.ndarray:
        return np.full(n, NAT)

    def before_asof(lo: int, hi: int) -> np.ndarray:
        return asof - days(_uniform_days(rng, lo, hi, n))

    f: dict[str, np.ndarray] = {}
    has_order = ~is_("no_order")
    # default: an order 2-12 years old, never before arrival + 30 days
    order = before_asof(60, 12 * 365)
    old = before_asof(700, 12 * 365)
    order = np.where(is_("final_appeal_dismissed", "appeal_sustained", "petition_no_stay",
                         "petition_with_stay", "removed", "departed_verified",
                         "departed_claimed_then_verified", "stay_ended"), old, order)
    order = np.where(is_("naturalized_old_order"), before_asof(15 * 365, 28 * 365), order)
    order = np.where(is_("appeal_window_open"), before_asof(3, 27), order)
    order = np.where(is_("appeal_pending", "in_custody_appeal_pending"), before_asof(45, 600),
                     order)
    order = np.where(is_("in_absentia_mtr_pending", "in_absentia_mtr_denied", "relief_granted",
                         "order_vacated", "lpr_after_order", "tps_after_order"),
                     before_asof(400, 12 * 365), order)
    order = np.where(has_order, order, NAT)
    f["order_date"] = order
    in_abs = is_("in_absentia", "in_absentia_mtr_denied", "in_absentia_mtr_pending")
    in_abs |= is_("departed_claimed", "in_custody", "stay_in_force", "protected_applicant",
                  "us_citizen_evidence") & (rng.random(n) < 0.3)
    f["in_absentia"] = in_abs & has_order
    waived = is_("final_appeal_waived", "other_motion_pending") | (
        is_("relief_granted", "order_vacated", "lpr_after_order", "tps_after_order",
            "in_custody", "departed_claimed") & ~in_abs & (rng.random(n) < 0.4))
    f["appeal_waived"] = waived & has_order
    types = np.array(["removal", "deportation", "exclusion", "expedited", "reinstated"],
                     dtype=object)
    otype = types[rng.choice(5, size=n, p=[0.8, 0.07, 0.03, 0.05, 0.05])]
    otype = np.where(is_("naturalized_old_order"),
                     np.where(rng.random(n) < 0.6, "deportation", "exclusion"), otype)
    # expedited and reinstated orders are final on their date (no appeal to the board):
    # stories whose point is the appeal or the appeal window use ordinary removal orders
    otype = np.where(is_("appeal_window_open", "appeal_pending", "appeal_sustained",
                         "in_custody_appeal_pending", "final_appeal_dismissed",
                         "petition_no_stay", "petition_with_stay", "final_period_lapsed",
                         "in_absentia", "in_absentia_mtr_denied", "in_absentia_mtr_pending"),
                     "removal", otype)
    f["order_type"] = np.where(has_order, otype, "")
    court = rng.integers(0, len(COURTS), size=n)
    f["court_code"] = COURTS[court, 0]
    f["court"] = COURTS[court, 1]

    # appeals
    appeal = is_("final_appeal_dismissed", "appeal_sustained", "appeal_pending",
                 "petition_no_stay", "petition_with_stay", "in_custody_appeal_pending")
    appeal |= is_("removed", "departed_verified", "stay_ended") & (rng.random(n) < 0.3) & ~in_abs
    f["appeal_filed"] = np.where(appeal, order + days(_uniform_days(rng, 5, 28, n)), NAT)
    decided = appeal & ~is_("appeal_pending", "in_custody_appeal_pending")
    dec = f["appeal_filed"] + days(_uniform_days(rng, 60, 600, n))
    dec = np.minimum(dec, asof - days(40))
    f["appeal_decided"] = np.where(decided, dec, NAT)
    f["appeal_outcome"] = np.where(decided, np.where(is_("appeal_sustained"), "sustained",
                                                     "dismissed"), "")
    # motions to reopen
    mtr = is_("in_absentia_mtr_pending", "in_absentia_mtr_denied", "other_motion_pending")
    lo = order + days(30)
    mtr_filed = lo + days(_uniform_days(rng, 0, np.maximum((asof - days(20) - lo).astype(np.int64), 1), n))
    f["mtr_filed"] = np.where(mtr, mtr_filed, NAT)
    md = is_("in_absentia_mtr_denied")
    mdd = np.minimum(mtr_filed + days(_uniform_days(rng, 20, 300, n)), asof - days(3))
    f["mtr_decided"] = np.where(md, np.maximum(mdd, mtr_filed + days(1)), NAT)
    f["mtr_outcome"] = np.where(md, "denied", "")
    # petitions for review (after the board dismisses an appeal)
    pfr = is_("petition_no_stay", "petition_with_stay")
    pf = np.minimum(f["appeal_decided"] + days(_uniform_days(rng, 5, 29, n)), asof - days(10))
    f["pfr_filed"] = np.where(pfr, pf, NAT)
    # some petitions (without a stay) already denied by the court of appeals
    pdd = is_("petition_no_stay") & (rng.random(n) < 0.4) & (pf < asof - days(40))
    f["pfr_decided"] = np.where(pdd, np.minimum(pf + days(_uniform_days(rng, 30, 400, n)),
                                                asof - days(3)), NAT)
    # stays
    stay_auth = np.array(["court_of_appeals", "board", "immigration_judge", "agency"],
                         dtype=object)
    stay = is_("petition_with_stay", "stay_in_force", "stay_ended", "in_custody_stay_after_book_in")
    start = np.where(is_("petition_with_stay"),
                     np.minimum(pf + days(_uniform_days(rng, 5, 60, n)), asof - days(3)),
                     np.maximum(order + days(60), before_asof(30, 900)))
    start = np.where(is_("stay_ended"), np.maximum(order + days(40), before_asof(200, 900)), start)
    start = np.minimum(start, asof - days(3))
    f["stay_authority"] = np.where(
        is_("petition_with_stay"), "court_of_appeals",
        stay_auth[rng.choice(4, size=n, p=[0.1, 0.2, 0.2, 0.5])])
    end = np.where(is_("stay_in_force"), asof + days(_uniform_days(rng, 10, 300, n)), NAT)
    ended_on = start + days(_uniform_days(rng, 60, 180, n))
    ended_on = np.minimum(ended_on, asof - days(3))
    explicit_end = is_("stay_ended") & (rng.random(n) < 0.5)
    end = np.where(is_("stay_ended") & ~explicit_end, ended_on, end)
    f["stay_ended"] = np.where(explicit_end, ended_on, NAT)
    # custody with a stay granted after book-in
    book_in = before_asof(2, 150)
    csab = is_("in_custody_stay_after_book_in")
    book_in = np.where(csab, before_asof(20, 150), book_in)
    start = np.where(csab, book_in + days(_uniform_days(rng, 1, 15, n)), start)
    f["stay_start"] = np.where(stay, start, NAT)
    f["stay_end"] = np.where(stay, end, NAT)
    # relief, vacatur
    after_order = np.minimum(order + days(_uniform_days(rng, 60, 3000, n)), asof - days(5))
    f["relief_date"] = np.where(is_("relief_granted"), after_order, NAT)
    reliefs = np.array(["cancellation_of_removal", "asylum", "withholding_of_removal",
                        "adjustment_of_status", "cat_deferral"], dtype=object)
    f["relief_kind"] = np.where(is_("relief_granted"), reliefs[rng.integers(0, 5, n)], "")
    f["vacated_date"] = np.where(is_("order_vacated"), after_order, NAT)
    # status evidence
    st = np.full(n, "", dtype=object)
    st = np.where(is_("naturalized_old_order"), "naturalized", st)
    st = np.where(is_("us_citizen_evidence"), "us_citizen", st)
    st = np.where(is_("lpr_after_order"), "lawful_permanent_resident", st)
    st = np.where(is_("tps_after_order"), "tps", st)
    prot = np.array(["t_visa_applicant", "u_visa_applicant", "vawa_self_petitioner"], dtype=object)
    st = np.where(is_("protected_applicant"), prot[rng.choice(3, size=n, p=[0.2, 0.5, 0.3])], st)
    sd = np.where(is_("naturalized_old_order"),
                  np.minimum(order + days(_uniform_days(rng, 3 * 365, 12 * 365, n)), asof - days(30)),
                  after_order)
    sd = np.where(is_("us_citizen_evidence"), before_asof(30, 3000), sd)
    sd = np.where(is_("protected_applicant"), before_asof(10, 2000), sd)
    f["status_type"] = st
    f["status_date"] = np.where(st != "", sd, NAT)
    # custody
    custody = is_("in_custody", "in_custody_stay_after_book_in", "in_custody_appeal_pending")
    book_in = np.where(is_("in_custody_appeal_pending"),
                       np.maximum(f["appeal_filed"] + days(1), before_asof(2, 40)), book_in)
    f["book_in"] = np.where(custody, np.minimum(book_in, asof - days(1)), NAT)
    f["book_out"] = np.full(n, NAT)
    td = np.array(["ready", "requested", "none"], dtype=object)
    f["travel_document"] = td[rng.choice(3, size=n, p=[0.62, 0.26, 0.12])]
    f["medical_hold"] = rng.random(n) < 0.05
    f["legal_hold"] = (rng.random(n) < 0.04) | csab | is_("in_custody_appeal_pending")
    # departures
    removed = is_("removed")
    dep = np.maximum(order + days(40), before_asof(5, 2000))
    dep = np.minimum(dep, asof - days(3))
    off = is_("removed", "departed_verified", "departed_claimed_then_verified")
    chan = OFFICIAL_EXITS[rng.choice(5, size=n, p=EXIT_P)]
    chan = np.where(removed, "air_exit", chan)
    claim = is_("departed_claimed", "departed_claimed_then_verified")
    claim_date = np.maximum(order + days(40), before_asof(10, 900))
    claim_date = np.minimum(claim_date, asof - days(5))
    f["claim_date"] = np.where(claim, claim_date, NAT)
    dep = np.where(is_("departed_claimed_then_verified"),
                   np.minimum(claim_date + days(_uniform_days(rng, 0, 5, n)), asof - days(2)), dep)
    f["departure_date"] = np.where(off, dep, NAT)
    f["departure_channel"] = np.where(off, chan, "")
    # the removed were detained until the flight
    past_in = dep - days(_uniform_days(rng, 10, 120, n))
    f["past_book_in"] = np.where(removed, past_in, NAT)
    f["past_book_out"] = np.where(removed, dep, NAT)
    # the last day a person can appear in the country's records
    seen = np.full(n, asof)
    seen = np.where(off, np.minimum(seen, f["departure_date"]), seen)
    seen = np.where(custody, np.minimum(seen, f["book_in"]), seen)
    f["last_seen"] = seen
    # others with an earlier, ended detention (released on bond), before they left
    rel_in = before_asof(200, 3000)
    rel_in = np.maximum(rel_in, pop.addr_from[:, 0])
    rel_in = np.minimum(rel_in, np.minimum(asof - days(120), seen - days(100)))
    rel_out = rel_in + days(_uniform_days(rng, 3, 90, n))
    released = (~custody & ~removed & (rng.random(n) < 0.06) & (rel_in >= pop.addr_from[:, 0])
                & (rel_out < seen))
    f["past_book_in"] = np.where(released, rel_in, f["past_book_in"])
    f["past_book_out"] = np.where(released, rel_out, f["past_book_out"])
    return f


def evaluate_gates(pop: Population) -> dict[str, np.ndarray]:
    """Each gate's verdict per person (True = pass), from the story's facts alone.

    The rules follow DESIGN.md's legal gates; boundaries are inclusive of the as-of date
    (a stay ending on the as-of date still covers it; the appeal period is open through
    order date + 30 days); orders made in absentia, with the appeal waived, or of type
    expedited / reinstated are final on their date. The generator keeps every story date
    at least two days away from such a boundary, so no truth value depends on that reading.
    """
    f, asof = pop.facts, pop.as_of
    od = f["order_date"]
    has_order = ~np.isnat(od) & (od <= asof)
    vacated = f["vacated_date"] <= asof
    appeal_filed = f["appeal_filed"] <= asof
    appeal_decided = f["appeal_decided"] <= asof
    dismissed = appeal_decided & (f["appeal_outcome"] == "dismissed")
    appeal_pending = appeal_filed & ~appeal_decided
    window_open = has_order & (asof <= od + days(30))
    in_abs, waived = f["in_absentia"], f["appeal_waived"]
    at_once = in_abs | waived | np.isin(f["order_type"], ["expedited", "reinstated"])
    final = has_order & ~vacated & (at_once | dismissed | (~appeal_filed & ~window_open))
    mtr_pending = (f["mtr_filed"] <= asof) & ~(f["mtr_decided"] <= asof)
    auto_stay = ((has_order & ~at_once & ~appeal_filed & window_open)
                 | appeal_pending | (in_abs & mtr_pending))
    st_start, st_end = f["stay_start"], f["stay_end"]
    stay = (st_start <= asof) & (np.isnat(st_end) | (asof <= st_end)) & ~(f["stay_ended"] <= asof)
    st, sd = f["status_type"], f["status_date"]
    citizen = np.isin(st, ["us_citizen", "naturalized"])
    later_status = np.isin(st, ["lawful_permanent_resident", "tps"]) & (sd <= asof) & (sd > od)
    relief = (f["relief_date"] <= asof) & (f["relief_date"] > od)
    protected = np.isin(st, ["t_visa_applicant", "u_visa_applicant", "vawa_self_petitioner"])
    custody = (f["book_in"] <= asof) & ~(f["book_out"] <= asof)
    departed = f["departure_date"] <= asof
    pfr_pending = (f["pfr_filed"] <= asof) & ~(f["pfr_decided"] <= asof)
    return {
        "_flag_petition_for_review_pending": pfr_pending & ~stay,
        "_flag_motion_to_reopen_pending": mtr_pending & ~in_abs,
        "final_order": final,
        "no_automatic_stay": ~auto_stay,
        "no_granted_stay": ~stay,
        "no_citizenship_or_status": ~(citizen | later_status | relief),
        "no_protected_application": ~protected,
        "not_already_resolved": ~(custody | departed),
        "_in_custody": custody,
        "_departed": departed,
        "_claimed": f["claim_date"] <= asof,
    }
