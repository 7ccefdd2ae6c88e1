"""What a scored pair's non-name fields say, from the model's comparison levels.

A pair's probability mixes three things: the prior (how rare matches are among all pairs
of the workspace), what the names say, and what the other fields say. Clustering's veto
("a record of one cluster clearly differs from the other") should fire on *contrary*
evidence, not on missing evidence: a mail record carrying only a name and an address has
a tiny probability against a booking of the same person that carries the other surname of
a compound name (the prior dominates), yet nothing in the pair says two people. Names are
left out of the sum because their disagreements are the ordinary variation within one
person (a dropped second surname, a married name, a variant spelling) that the names'
own levels grade; the fields that identify (birth date, identifiers, sex, contact) and
differ are contrary evidence.
"""

from __future__ import annotations

import math
from typing import Any

#: comparisons whose disagreement is variation within one person, not contrary evidence
NAME_COMPARISONS = ("given_name", "family_name")


def level_weights(model: dict[str, Any]) -> dict[str, dict[int, float]]:
    """Comparison -> comparison vector value (gamma) -> match weight (log2 m/u) of each
    non-null level of a saved Splink model, numbered as Splink numbers them (the first
    non-null level highest, the last 0)."""
    out: dict[str, dict[int, float]] = {}
    for comp in model.get("comparisons", []):
        levels = [lv for lv in comp.get("comparison_levels", []) if not lv.get("is_null_level")]
        ws: dict[int, float] = {}
        for i, lv in enumerate(levels):
            m, u = lv.get("m_probability"), lv.get("u_probability")
            if isinstance(m, (int, float)) and isinstance(u, (int, float)) and m > 0 and u > 0:
                ws[len(levels) - 1 - i] = math.log2(m / u)
        out[comp["output_column_name"]] = ws
    return out


def contradiction_sql(model: dict[str, Any] | None, veto_below: float, alias: str = "x"
                      ) -> str:
    """SQL (over a predictions row ``alias`` with its ``gamma_*`` columns): the pair's
    non-name comparisons that disagree weigh together at least 1 / ``veto_below`` against
    one person. Only the disagreeing ones: a shared address does not cancel a different
    birth date (a father and son of one name at one address are two people).

    Without a model: ``true`` (every improbable pair counts as contrary, as before)."""
    if model is None or not 0 < veto_below < 1:
        return "true"
    terms = []
    for name, ws in level_weights(model).items():
        if name in NAME_COMPARISONS:
            continue
        neg = {g: w for g, w in ws.items() if w < 0}
        if not neg:
            continue
        # doubles, not decimal literals: both engines must add them the same way
        cases = " ".join(f"when {g} then {w!r}::double" for g, w in sorted(neg.items()))
        terms.append(f"(case {alias}.gamma_{name} {cases} else 0.0::double end)")
    if not terms:
        return "false"
    return f"({' + '.join(terms)} <= {math.log2(veto_below)!r}::double)"
