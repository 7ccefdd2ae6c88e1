"""Why two records are (or are not) the same person: Splink's waterfall, per comparison.

Each comparison (given name, family name, birth date, A-number, ...) lands on one level
("same transliteration key", "day and month swapped", ...) whose match weight adds to the
prior; the identifier and name rules the clustering applies on top are listed too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from splink import DuckDBAPI, Linker
from splink.internals.waterfall_chart import records_to_waterfall_data

from casegraph.resolve import model as rmodel
from casegraph.resolve.cluster import a_numbers_conflict
from casegraph.resolve.pipeline import _quiet_splink, latest_model_path
from casegraph.resolve.prepare import INPUT_TABLE, build_input
from casegraph.resolve.schema import config
from casegraph.workspace import Workspace

#: the input columns whose values an explanation shows, per comparison
SHOWN_COLUMNS: dict[str, tuple[str, ...]] = {
    "given_name": ("given_norm",), "family_name": ("family_norm",), "birth_date": ("dob",),
    "address": ("street_address", "postcode", "locality"), "contact": ("phone", "email"),
}


def _shown(rec: dict[str, Any], comparison: str, side: str) -> str | None:
    cols = SHOWN_COLUMNS.get(comparison, (comparison,))
    vals = [rec.get(f"{c}_{side}") for c in cols]
    vals = [str(v) for v in vals if v is not None]
    return ", ".join(vals) if vals else None


class ExplainError(ValueError):
    """The pair cannot be explained (unknown record, non-person kind, no model)."""


def _linker(ws: Workspace, keys: list[str]) -> tuple[Linker, Any]:
    path = latest_model_path(ws)
    if path is not None:
        settings = json.loads(Path(path).read_text(encoding="utf-8"))
    else:  # never resolved: explain with the prior model
        settings = rmodel.settings(1e-4).get_settings("duckdb").as_dict()
    settings["retain_intermediate_calculation_columns"] = True
    settings["retain_matching_columns"] = True
    api = DuckDBAPI(connection=ws.con)
    sdf_all = api.register(INPUT_TABLE)
    linker = Linker(sdf_all, settings, log_level=None)
    for c in rmodel.TF_COLUMNS:
        linker.table_management.compute_tf_table(c)
    ws.con.execute(f"create or replace temp table _explain_pair as select * from {INPUT_TABLE} "
                   "where unique_id in (?, ?)", keys)
    return linker, api.register("_explain_pair")


def explain_pair(ws: Workspace, key_a: str, key_b: str, *, chart: str | Path | None = None
                 ) -> dict[str, Any]:
    """Explain the match between two records.

    Args:
        ws: the workspace.
        key_a, key_b: record keys (``source:record_id``).
        chart: optional path; writes Splink's waterfall chart there (``.html``, offline).

    Returns:
        ``{"record_key_l", "record_key_r", "match_probability", "match_weight", "prior_weight",
        "comparisons": [{"comparison", "level", "match_weight", "bayes_factor",
        "m_probability", "u_probability", "value_l", "value_r", "tf_adjustment_weight"}],
        "rules": [...], "person_id_l", "person_id_r", "same_person", "model"}``

    Raises:
        ExplainError: a record is unknown or not a person-bearing record.
    """
    _quiet_splink()
    if key_a == key_b:
        raise ExplainError("give two different records")
    if not ws.has_table(INPUT_TABLE):
        if not ws.has_table("records"):
            raise ExplainError("the workspace has no records; ingest first")
        build_input(ws)
    keys = [key_a, key_b]
    found = {k for (k,) in ws.con.execute(
        f"select unique_id from {INPUT_TABLE} where unique_id in (?, ?)", keys).fetchall()}
    for k in keys:
        if k not in found:
            raise ExplainError(f"no current person-bearing record {k!r} (resolve first?)")
    linker, pair_sdf = _linker(ws, keys)
    preds = linker.inference.predict_within(
        pair_sdf, blocking_rules_to_generate_predictions=["1=1"], warning_mode="never")
    recs = preds.as_record_list()
    preds.drop_table_from_database_and_remove_from_cache()
    if not recs:
        raise ExplainError("the pair could not be scored")
    rec = recs[0]
    waterfall = records_to_waterfall_data([rec], linker._settings_obj, False)
    comps = []
    prior = None
    for w in waterfall:
        name = w["column_name"]
        if name == "Prior":
            prior = w["log2_bayes_factor"]
            continue
        if name == "Final score" or name.startswith("tf_"):
            continue
        comps.append({
            "comparison": name,
            "level": w["label_for_charts"],
            "match_weight": None if w["log2_bayes_factor"] is None
            else round(float(w["log2_bayes_factor"]), 4),
            "bayes_factor": w["bayes_factor"],
            "m_probability": w.get("m_probability"),
            "u_probability": w.get("u_probability"),
            "value_l": _shown(rec, name, "l"),
            "value_r": _shown(rec, name, "r"),
        })
    # term-frequency adjustments appear as their own waterfall rows
    for w in waterfall:
        if w["column_name"].startswith("tf_"):
            base = w["column_name"][3:]
            for c in comps:
                if c["comparison"] == base:
                    c["tf_adjustment_weight"] = round(float(w["log2_bayes_factor"]), 4)
    l, r = rec["unique_id_l"], rec["unique_id_r"]
    rules = _rules(ws, rec) + _cognate_note(rec, comps)
    persons = dict(ws.con.execute(
        "select record_key, person_id from person_records where record_key in (?, ?)",
        [l, r]).fetchall()) if ws.has_table("person_records") else {}
    out = {
        "record_key_l": l, "record_key_r": r,
        "match_probability": float(rec["match_probability"]),
        "match_weight": float(rec["match_weight"]),
        "prior_weight": prior,
        "comparisons": comps,
        "rules": rules,
        "person_id_l": persons.get(l), "person_id_r": persons.get(r),
        "same_person": bool(persons.get(l)) and persons.get(l) == persons.get(r),
        "model": str(latest_model_path(ws) or "prior (not yet resolved)"),
    }
    if chart is not None:
        ch = linker.visualisations.waterfall_chart([rec], filter_nulls=False)
        Path(chart).parent.mkdir(parents=True, exist_ok=True)
        Path(chart).write_text(ch.to_html(inline=True), encoding="utf-8")
        out["chart"] = str(chart)
    ws.con.execute("drop table if exists _explain_pair")
    return out


def _cognate_note(rec: dict[str, Any], comps: list[dict[str, Any]]) -> list[str]:
    """Which name the two given names are forms of, when that is the level they landed on
    (an officer reading "Mykola" against "Nikolai" should see why it is not "different")."""
    if not any(c["comparison"] == "given_name" and c["level"] == rmodel.COGNATE_LABEL
               for c in comps):
        return []
    shared = sorted(set(rec.get("given_cog_l") or ()) & set(rec.get("given_cog_r") or ()))
    return [f"given names are forms of one name in different languages or scripts "
            f"({', '.join(shared) or 'cognate group'}): moderate evidence, and the "
            "twins' given-name rule does not apply"]


def _rules(ws: Workspace, rec: dict[str, Any]) -> list[str]:
    """The hard rules that apply to this pair, in words."""
    cfg = config(ws)
    out = []
    al, ar = rec.get("a_number_l"), rec.get("a_number_r")
    if al and ar and al == ar and rec.get("gamma_birth_date") != 0:
        out.append("same valid A-number and compatible birth date: linked (must-link)")
    elif a_numbers_conflict(al, ar):
        out.append("valid A-numbers more than one edit apart: never linked automatically")
    elif al and ar and al != ar:
        out.append("A-numbers one edit apart: likely a clerical typo, not a conflict")
    ids_agree = any((rec.get(f"gamma_{c}") or 0) >= 1
                    for c in ("a_number", "passport", "fbi", "national_id"))
    if cfg.distinct_given_names_veto and rec.get("gamma_given_name") == 0 and not ids_agree:
        out.append("clearly different given names and no identifier agrees: not linked "
                   "automatically (twins / relatives)")
    dec = ws.query("select decision, decided_by, reason from identity_decisions where "
                   "least(record_key_l, record_key_r) = least(?, ?) and "
                   "greatest(record_key_l, record_key_r) = greatest(?, ?) "
                   "order by decided_at desc limit 1",
                   [rec["unique_id_l"], rec["unique_id_r"]] * 2) \
        if ws.has_table("identity_decisions") else []
    if dec:
        d = dec[0]
        out.append(f"human decision: {d['decision']} (by {d['decided_by']}: {d['reason'] or '-'})")
    return out
