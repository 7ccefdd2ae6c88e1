"""Training the model on the workspace's own data: u by random sampling, m by EM, no labels.

Apart from the comparisons (``model.py``) because it is about *estimating* weights on
whatever data arrives (and keeping them sane when the data is thin or odd), not about
what counts as agreement.
"""

from __future__ import annotations

import copy
import logging
import math
from dataclasses import dataclass, field
from typing import Any

from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink.internals.splink_dataframe import SplinkDataFrame

from casegraph.resolve.model import COGNATE_LABEL, comparisons
from casegraph.workspace import Workspace

log = logging.getLogger(__name__)

#: EM on a sample of this many blocked pairs at most (1M records share a birth date with
#: ~20M others). 1M pairs a session: at 992,985 records B3 P/R/F1 0.99815/0.92376/0.95951
#: against 0.99816/0.92374/0.95951 with 2M, 8 CPU seconds less (docs/bench-resolve-speed.md)
EM_MAX_PAIRS = 1e6


@dataclass
class TrainResult:
    trained: bool
    notes: list[str] = field(default_factory=list)


def make_linker(ws: Workspace, table: str, model: SettingsCreator | dict[str, Any] | str
                ) -> tuple[Linker, SplinkDataFrame, DuckDBAPI]:
    db_api = DuckDBAPI(connection=ws.con)
    sdf = db_api.register(table)
    linker = Linker(sdf, model, log_level=None)
    return linker, sdf, db_api


def train(linker: Linker, n_records: int, *, min_records: int = 500, seed: int = 42,
          n_train: int | None = None) -> TrainResult:
    """Train on the workspace's own data, keeping the priors where data is too thin.

    ``n_records`` is the workspace's size, ``n_train`` the training table's (a sample of
    the workspace, or all of it when ``None``): see :func:`_estimate_u` for which budget of
    random pairs each comparison gets.
    """
    res = TrainResult(trained=False)
    if n_records < min_records:
        res.notes.append(f"{n_records} records < {min_records}: prior weights used")
        return res
    try:
        linker.training.estimate_probability_two_random_records_match(
            [block_on("a_number", "dob"), block_on("given_norm", "family_norm", "dob"),
             block_on("passport"), block_on("national_id")], recall=0.8)
    except Exception as e:  # noqa: BLE001 - too little data: keep the prior
        res.notes.append(f"prior kept: {type(e).__name__}: {e}")
    try:
        _estimate_u(linker, n_records, n_train if n_train is not None else n_records, seed)
    except Exception as e:  # noqa: BLE001
        res.notes.append(f"u priors kept: {type(e).__name__}: {e}")
        return res
    ok = 0
    for cols in (("dob",), ("given_tk", "family_key"), ("a_number",)):
        pairs = _count_pairs(linker, cols)
        if pairs < 50:
            res.notes.append(f"EM blocked on {'+'.join(cols)} skipped: {pairs} pairs")
            continue
        # a failed EM session leaves the linker without the comparisons it blocked on:
        # keep a copy of the settings and put it back on failure
        saved = copy.deepcopy(linker._settings_obj)
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on(*cols), estimate_without_term_frequencies=True,
                max_pairs=EM_MAX_PAIRS if pairs > EM_MAX_PAIRS else None)
            ok += 1
        except Exception as e:  # noqa: BLE001 - e.g. a level never seen among matches
            linker._settings_obj = saved
            why = ("a comparison level never occurs among the likely matches"
                   if "m_probability" in str(e) else f"{type(e).__name__}: {str(e)[:120]}")
            res.notes.append(f"EM blocked on {'+'.join(cols)} not used ({why}); "
                             "the other sessions' estimates stand")
    res.trained = ok > 0
    if res.trained:
        _decontaminate_u(linker)
    _sanitise(linker)
    return res


#: Comparisons whose u is estimated on the training sample's budget of random pairs rather
#: than the workspace's. Their informative levels are common among random pairs (u of 5e-4
#: to 6e-3 at 1M records: hundreds of pairs in a 1.5M-pair sample) and their only rare
#: levels (given/family swapped) are seen in no feasible sample (0 of 5M pairs; their prior
#: stands). But those levels are never counted 100 times, so Splink's early stop never
#: fires and these two costly comparisons ran the full 5M pairs: 77% of u-sampling at 1M
#: (docs/bench-resolve-speed.md). The identifier and date comparisons keep the
#: workspace's budget: their levels are rare (same A-number: u ~ 8e-6, ~40 pairs in 5M)
#: and their estimates were what a smaller budget cost.
SAMPLE_BUDGET_COMPARISONS: tuple[str, ...] = ("given_name", "family_name")


def _u_budget(n: int) -> float:
    """Random pairs to sample for u for ``n`` records (5 per record, 100k to 5M)."""
    return min(5e6, max(1e5, n * 5.0))


def _estimate_u(linker: Linker, n_records: int, n_train: int, seed: int) -> None:
    """u by random sampling: the workspace's budget of pairs, except for
    :data:`SAMPLE_BUDGET_COMPARISONS`, which get the training sample's.

    Splink samples records by a hash of their id and the seed, so the comparisons on the
    workspace's budget see exactly the pairs (and get exactly the u) they got when every
    comparison shared that budget.
    """
    full, small = _u_budget(n_records), _u_budget(n_train)
    settings = linker._settings_obj
    comps = list(settings.comparisons)
    named = [c for c in comps if c.output_column_name in SAMPLE_BUDGET_COMPARISONS]
    if small >= full or not named:
        linker.training.estimate_u_using_random_sampling(max_pairs=full, seed=seed)
        return
    rest = [c for c in comps if c.output_column_name not in SAMPLE_BUDGET_COMPARISONS]
    try:
        for subset, budget in ((rest, full), (named, small)):
            if subset:
                settings.comparisons = subset
                linker.training.estimate_u_using_random_sampling(max_pairs=budget, seed=seed)
    finally:
        settings.comparisons = comps


def _count_pairs(linker: Linker, cols: tuple[str, ...]) -> int:
    """Pairs an equi-join on ``cols`` generates (from per-key counts, without the join)."""
    table = next(iter(linker._input_tables_dict.values())).physical_name
    cond = " and ".join(f'"{c}" is not null' for c in cols)
    grp = ", ".join(f'"{c}"' for c in cols)
    rows = linker._db_api.duckdb_con.execute(
        f"select coalesce(sum(n * (n - 1) / 2), 0) from (select count(*) n from {table} "
        f"where {cond} group by {grp})").fetchall()
    return int(rows[0][0])


#: a level's u may be corrected down to at most this fraction of its sampled value
#: (at most +4 bits), so that a poor estimate of the match rate cannot make a weight explode
U_CORRECTION_FLOOR = 1 / 16


def _decontaminate_u(linker: Linker) -> None:
    """u among non-matches, from u sampled among all pairs.

    Random sampling estimates u over *all* pairs, matches included. When people have many
    records each (an agency's seven systems), a random pair is a match often enough that
    the match rate is comparable to the u of a discriminating level: the sampled u of
    "same A-number" is then mostly true matches, and the weight of an identifier shrinks
    to that of a birth date. With the match rate lambda and the level's m:
    u_all = lambda * m + (1 - lambda) * u_nonmatch, solved for u_nonmatch.
    """
    lam = linker._settings_obj._probability_two_random_records_match
    if not isinstance(lam, float) or not 0 < lam < 0.5:
        return
    for comp in linker._settings_obj.comparisons:
        for cl in comp.comparison_levels:
            if cl.is_null_level or cl._is_else_level or cl._fix_u_probability:
                continue
            m, u = cl._m_probability, cl._u_probability
            if not (isinstance(m, float) and isinstance(u, float) and 0 < u < 1 and 0 < m <= 1):
                continue
            corrected = (u - lam * m) / (1 - lam)
            if corrected < u:
                cl.u_probability = max(corrected, u * U_CORRECTION_FLOOR)


#: no single disagreement may count for less than this match weight: EM on clean-looking
#: data learns "nationality never differs between true matches" (weight -40), and then one
#: clerical slip would hide a stay of removal. Hard conflicts are rules, not weights.
MIN_LEVEL_WEIGHT = -8.0


def _sanitise(linker: Linker) -> None:
    """Replace untrained/degenerate parameters (None, 0, 1) with the level's prior, floor
    every level's weight at ``MIN_LEVEL_WEIGHT``, cap a level whose m was never trained at
    its prior weight, and floor every agreement level at the weight of its comparison's
    "different" level.

    The last: EM sees few true matches on a rare partial-agreement level (names sharing
    only a phonetic key) and may estimate m ~ 0, i.e. "agreeing phonetically is stronger
    evidence of two people than disagreeing completely", which is never true.
    """
    priors = {c["output_column_name"]: c["comparison_levels"] for c in comparisons()}
    for comp in linker._settings_obj.comparisons:
        lv_priors = [lv for lv in priors.get(comp.output_column_name, []) if not lv.get("is_null_level")]
        levels = [cl for cl in comp.comparison_levels if not cl.is_null_level]
        for cl, pr in zip(levels, lv_priors):
            for attr in ("m_probability", "u_probability"):
                v = getattr(cl, "_" + attr, None)
                if not isinstance(v, (int, float)) or math.isnan(v) or v <= 0 or v >= 1:
                    setattr(cl, attr, pr[attr])
            m, u = cl._m_probability, cl._u_probability
            if m == pr["m_probability"] and isinstance(u, float) and m / u > m / pr["u_probability"]:
                # m never trained (EM saw no match there) but u was sampled: a prior m
                # over a measured tiny u is a made-up weight; keep the prior's weight
                cl.m_probability = m = u * pr["m_probability"] / pr["u_probability"]
            if isinstance(m, float) and isinstance(u, float) and m / u < 2 ** MIN_LEVEL_WEIGHT:
                cl.m_probability = u * 2 ** MIN_LEVEL_WEIGHT
        if levels and levels[-1]._is_else_level:
            floor = levels[-1]._m_probability / levels[-1]._u_probability
            for cl in levels[:-1]:
                m, u = cl._m_probability, cl._u_probability
                if isinstance(m, float) and isinstance(u, float) and m / u < floor:
                    cl.m_probability = u * floor
        _cap_below(comp)


#: (comparison, level) -> the level it may never outweigh. A cross-language form (Mykola /
#: Nicholas) is a looser claim than one spelling key (EM trained it to +6.6 bits at 100k
#: people, above the key's level), so it is capped at the key's weight.
CAPPED_LEVELS: dict[tuple[str, str], str] = {
    ("given_name", COGNATE_LABEL): "same transliteration key",
}


def _cap_below(comp: Any) -> None:
    """Cap the levels of :data:`CAPPED_LEVELS` at their ceiling level's weight (m / u)."""
    lv = {cl.label_for_charts: cl for cl in comp.comparison_levels}
    for (name, label), ceiling in CAPPED_LEVELS.items():
        cl, top = lv.get(label), lv.get(ceiling)
        if name != comp.output_column_name or cl is None or top is None:
            continue
        m, u = cl._m_probability, cl._u_probability
        tm, tu = top._m_probability, top._u_probability
        if all(isinstance(x, float) for x in (m, u, tm, tu)) and m / u > tm / tu:
            cl.m_probability = u * tm / tu
