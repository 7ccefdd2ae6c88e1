"""Comparison levels and blocking rules added for accuracy, on crafted pairs.

Each test states a pattern seen in real agency records (names swapped token-wise,
compound surnames split across records, one keyboard slip, addresses written by
different systems) and checks the model puts the pair on the intended level, or that
blocking makes the pair a candidate at all.
"""

from __future__ import annotations

import pytest
from splink import DuckDBAPI, Linker

from casegraph.resolve import model as rmodel
from casegraph.resolve import training as rtraining
from casegraph.resolve.address import address_key_sql, house_number_sql
from casegraph.resolve.explain import explain_pair
from casegraph.resolve.prepare import INPUT_TABLE, build_input
from casegraph.workspace import Workspace
from tests.factories import insert_records
from tests.resolve.linkers import levels_of, prior_linker


def rec(source: str, rid: str, **kw: object) -> dict[str, object]:
    return {"source": source, "record_id": rid, "kind": kw.pop("kind", "person"), **kw}


def levels(ws: Workspace, a: dict[str, object], b: dict[str, object]) -> dict[str, str]:
    """The comparison level of each comparison for the pair (a, b), with the prior model."""
    insert_records(ws, [a, b])
    build_input(ws)
    e = explain_pair(ws, f"{a['source']}:{a['record_id']}", f"{b['source']}:{b['record_id']}")
    return {c["comparison"]: c["level"] for c in e["comparisons"]}


def candidate_pairs(ws: Workspace, rows: list[dict[str, object]]) -> set[tuple[str, str]]:
    """Pairs the blocking rules generate over ``rows``."""
    insert_records(ws, rows)
    build_input(ws)
    linker = Linker(DuckDBAPI(connection=ws.con).register(INPUT_TABLE), rmodel.settings(1e-3, tf=0),
                    log_level=None)
    preds = linker.inference.predict(warning_mode="never")
    out = {(min(l, r), max(l, r)) for l, r in ws.con.execute(
        f"select unique_id_l, unique_id_r from {preds.physical_name}").fetchall()}
    preds.drop_table_from_database_and_remove_from_cache()
    return out


# ---- address key ---------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["7553 lakeview avenue apt 4", "7553 lakeview ave 4",
                                 "7553 lakeview ave unit 4", "7553 lakeview av apartment 4"])
def test_address_key_folds_street_words_and_unit_designators(raw: str) -> None:
    import duckdb

    con = duckdb.connect()
    key = con.execute(f"select {address_key_sql('?')}", [raw]).fetchall()[0][0]
    assert key == "7553 lakeview ave 4"
    assert con.execute(f"select {house_number_sql('?')}", [key]).fetchall()[0][0] == "7553"


def test_address_key_keeps_different_units_and_streets_apart() -> None:
    import duckdb

    con = duckdb.connect()
    k = [con.execute(f"select {address_key_sql('?')}", [v]).fetchall()[0][0]
         for v in ("12 elm street apt 4", "12 elm street apt 5", "12 elm road apt 4", None)]
    assert len(set(k[:3])) == 3 and k[3] is None
    assert con.execute(f"select {house_number_sql('?')}", ["transient"]).fetchall()[0][0] is None


def test_same_home_written_by_two_systems_is_the_same_street_address(ws: Workspace) -> None:
    lv = levels(ws,
                rec("utility", "U1", full_name="Maria Pineda",
                    street_address="2559 23rd Terrace Apt 4C", postcode="16131"),
                rec("bookings", "B1", kind="encounter", encounter_date="2025-01-01",
                    full_name="PINEDA, MARIA", street_address="2559 23RD TER #4C",
                    postcode="16131"))
    assert lv["address"].startswith("same street address")


def test_same_street_address_with_a_postcode_typo_in_the_same_locality(ws: Workspace) -> None:
    lv = levels(ws,
                rec("a", "1", given_name="Talyah", family_name="Hewson",
                    street_address="16 Helen Mayo Crescent", postcode="3189", locality="Orange"),
                rec("b", "1", given_name="Talyah", family_name="Hewson",
                    street_address="16 Helen Mayo Crescent", postcode="3198", locality="Orange"))
    assert lv["address"].startswith("same street address")


def test_house_number_and_postcode_with_a_street_typo(ws: Workspace) -> None:
    lv = levels(ws,
                rec("a", "1", given_name="Ana", family_name="Ruiz",
                    street_address="4628 Cherry Road", postcode="77975"),
                rec("b", "1", given_name="Ana", family_name="Ruiz",
                    street_address="4628 Chery Rd", postcode="77975"))
    assert lv["address"] == "same house number and postcode, street alike"


# ---- names ---------------------------------------------------------------------------------

def test_token_wise_swap_with_compound_surname_and_middle_name(ws: Workspace) -> None:
    # family name and middle name typed into the given-name box
    lv = levels(ws,
                rec("border", "A1", kind="encounter", encounter_date="2024-01-01",
                    given_name="TORRES RODRIGUEZ SILVIA", family_name="MARIA",
                    birth_date="1998-04-14"),
                rec("subjects", "S1", given_name="Maria Silvia", family_name="Torres Rodriguez",
                    birth_date="1998-04-14"))
    assert lv["given_name"] == "given/family swapped, compound or middle names"
    assert lv["family_name"] == "given/family swapped, compound or middle names"


def test_half_of_a_compound_surname_in_the_given_name_field(ws: Workspace) -> None:
    # Jorge Lopez Castillo: one system kept "Jorge Castillo", another "LOPEZ, JORGE" swapped
    lv = levels(ws,
                rec("utility", "U1", given_name="Jorge", family_name="Castillo",
                    birth_date="1973-10-11"),
                rec("employer", "E1", given_name="Lopez", family_name="Jorge",
                    birth_date="1973-10-11"))
    assert lv["given_name"] == "given name written in the other's family-name field"
    assert lv["family_name"] == "family name written in the other's given-name field"


@pytest.mark.parametrize("a,b", [("Jun", "Ujn"), ("Thu", "Htu"), ("Omar", "Oar"),
                                 ("Miguel", "Imguel Hugo")])
def test_one_keyboard_slip_in_a_short_given_name_is_not_a_different_name(
        ws: Workspace, a: str, b: str) -> None:
    lv = levels(ws, rec("a", "1", given_name=a, family_name="Liu", birth_date="1991-05-30"),
                rec("b", "1", given_name=b, family_name="Liu", birth_date="1991-05-30"))
    assert lv["given_name"] != "different"


def test_middle_name_used_as_first_name(ws: Workspace) -> None:
    lv = levels(ws, rec("a", "1", given_name="Maria Guadalupe", family_name="Reyes"),
                rec("b", "1", given_name="Ana Guadalupe", family_name="Reyes"))
    assert lv["given_name"] == "a given-name token agrees (a middle name used as the first)"


def test_twins_given_names_stay_different(ws: Workspace) -> None:
    lv = levels(ws, rec("a", "1", given_name="Fatima", family_name="Haddad",
                        birth_date="2001-06-01"),
                rec("b", "1", given_name="Aisha", family_name="Haddad", birth_date="2001-06-01"))
    assert lv["given_name"] == "different"


def test_swap_levels_need_the_names_to_cross_over(ws: Workspace) -> None:
    # same family name, given names unrelated: not a swap of any kind
    lv = levels(ws, rec("a", "1", given_name="Jose Luis", family_name="Garcia"),
                rec("b", "1", given_name="Pedro", family_name="Garcia Luis"))
    assert "swapped" not in lv["given_name"]
    assert "swapped" not in lv["family_name"]


# ---- blocking ------------------------------------------------------------------------------

def test_blocking_on_house_number_postcode_and_a_name_key(ws: Workspace) -> None:
    # no date, no identifier, the street written differently: only the house number,
    # postcode and a name tie the two
    pairs = candidate_pairs(ws, [
        rec("utility", "U1", given_name="Wei", family_name="Zhang",
            street_address="4589 Cedar Circle", postcode="78593"),
        rec("mail", "M1", given_name="Wei", family_name="Zhang",
            street_address="4589 Ceder Cir", postcode="78593"),
        rec("mail", "M2", given_name="Li", family_name="Chen",
            street_address="4589 Ceder Cir", postcode="78593")])
    assert ("mail:M1", "utility:U1") in pairs
    assert ("mail:M2", "utility:U1") not in pairs


def test_blocking_on_street_and_locality_catches_postcode_typos(ws: Workspace) -> None:
    pairs = candidate_pairs(ws, [
        rec("a", "1", given_name="Casey", family_name="Flatman",
            street_address="3 Wyselaskie Circuit", postcode="7250", locality="Mentone"),
        rec("b", "1", given_name="Casey", family_name="Flatan",
            street_address="3 Wyselaskie Circuit", postcode="7205", locality="Mentone")])
    assert ("a:1", "b:1") in pairs


def test_namesakes_with_different_birth_dates_are_scored(ws: Workspace) -> None:
    # a rare name carried by two people: scoring them against each other is what lets
    # clustering see that a name-only record linking to both cannot join them
    pairs = candidate_pairs(ws, [
        rec("a", "1", given_name="Vikram", family_name="Khan", birth_date="2000-05-05"),
        rec("b", "1", given_name="Vikram", family_name="Khan", birth_date="1994-08-17")])
    assert ("a:1", "b:1") in pairs


# ---- trained weights -----------------------------------------------------------------------

def test_sanitise_floors_partial_agreement_and_caps_untrained_levels(ws: Workspace) -> None:
    linker = prior_linker(ws)
    lv = levels_of(linker, "given_name")
    different = lv["different"]
    different.m_probability, different.u_probability = 0.01, 0.9
    phonetic = lv["phonetic key agrees"]
    phonetic.m_probability, phonetic.u_probability = 1e-9, 0.001   # EM: "never among matches"
    token = lv["a given-name token agrees (a middle name used as the first)"]
    token.u_probability = 1e-6    # m stays the prior (untrained), u sampled tiny
    rtraining._sanitise(linker)
    assert phonetic._m_probability / phonetic._u_probability >= 0.01 / 0.9 - 1e-12
    prior = next(p for p in rmodel.given_name_comparison()["comparison_levels"]
                 if p.get("label_for_charts", "").startswith("a given-name token"))
    assert token._m_probability / token._u_probability == pytest.approx(
        prior["m_probability"] / prior["u_probability"])


def test_sampled_u_is_corrected_for_the_match_rate(ws: Workspace) -> None:
    linker = prior_linker(ws)
    linker._settings_obj._probability_two_random_records_match = 5e-4
    comps = {c.output_column_name: c for c in linker._settings_obj.comparisons}
    anum = next(cl for cl in comps["a_number"].comparison_levels if cl.label_for_charts == "exact")
    anum.m_probability, anum.u_probability = 0.97, 6e-4    # mostly true matches
    dob = next(cl for cl in comps["birth_date"].comparison_levels
               if cl.label_for_charts == "exact")
    dob.m_probability, dob.u_probability = 0.9, 0.003      # mostly strangers
    swap = next(cl for cl in comps["given_name"].comparison_levels
                if cl.label_for_charts == "given/family swapped")
    rtraining._decontaminate_u(linker)
    assert anum._u_probability == pytest.approx((6e-4 - 5e-4 * 0.97) / (1 - 5e-4))
    assert dob._u_probability == pytest.approx((0.003 - 5e-4 * 0.9) / (1 - 5e-4))
    assert swap._u_probability == 0.0006                   # fixed levels stay fixed
    anum.u_probability = 4e-4                              # below lambda * m: floored
    rtraining._decontaminate_u(linker)
    assert anum._u_probability == pytest.approx(4e-4 * rtraining.U_CORRECTION_FLOOR)


@pytest.mark.parametrize("a,b", [("thanh", "tin"), ("linh", "lan"), ("li", "ly"),
                                 ("tuan", "tan")])
def test_short_names_keep_their_vowels_in_the_key(a: str, b: str) -> None:
    from casegraph.resolve.names import translit_token

    assert translit_token(a) != translit_token(b)


def test_twins_with_short_given_names_are_not_one_transliteration(ws: Workspace) -> None:
    # Vietnamese twins Thanh and Tin Hoang, one record written family-first
    lv = levels(ws, rec("a", "1", given_name="Hoang", family_name="Thanh",
                        birth_date="1990-11-21"),
                rec("b", "1", given_name="Tin", family_name="Hoang", birth_date="1990-11-21"))
    assert "swapped" not in lv["given_name"]
    lv2 = levels(ws, rec("c", "1", given_name="Thanh", family_name="Hoang"),
                 rec("d", "1", given_name="Tin", family_name="Hoang"))
    assert lv2["given_name"] not in ("same transliteration key", "first name token agrees")
