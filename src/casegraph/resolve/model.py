"""The Fellegi–Sunter model: comparisons designed for this population, and blocking.

Every comparison level carries a prior m/u so that a workspace too small to train on
(three records) still gets sensible weights; larger workspaces are trained on their own
data (``resolve/training.py``).
"""

from __future__ import annotations

import logging
from typing import Any

from splink import SettingsCreator, block_on

log = logging.getLogger(__name__)

TF_COLUMNS = ("given_norm", "family_norm")

#: the least term frequency a name value is taken to have (Splink's ``tf_minimum_u_value``
#: on every name level adjusted for term frequency). Counted in one workspace, a name's
#: frequency is count / records, so a name seen once or twice weighs more the larger the
#: workspace, while the population the records come from holds more people of that name
#: than the workspace shows. The rarest values are also the least trustworthy: a family
#: name typed into the given-name box ("SHARMA PRIYA") is rare *as a given name*, and
#: given and family names are not independent (Priya goes with Sharma), so two such rare
#: values multiply into a near-certain name match that is shared by many people. Floored,
#: two exact names weigh at most log2(m / floor) each (about 9.5 bits) and a record that
#: carries nothing but a name cannot outweigh a namesake's record on the name alone.
#: Measured 2026-11-29 (docs/bench-resolve.md): 20,000 people B3 P 0.9971 -> 0.9982.
NAME_TF_FLOOR = 1e-3


#: names written family-first: both keys cross over, and the names are not one key twice
#: (Huong Hoang: both "hng"). Its weight is fixed (never trained) below the weight of an
#: exact match, because a swap cannot be term-frequency adjusted: trained, it learns that
#: swaps are rare between strangers and outweighs TF-adjusted exact matches of common names.
SWAP_SQL = ('"given_key_l" = "family_key_r" AND "family_key_l" = "given_key_r" AND '
            '"given_key_l" <> "family_key_l"')

FUZZY_SWAP_SQL = ('jaro_winkler_similarity("given_norm_l", "family_norm_r") >= 0.9 AND '
                  'jaro_winkler_similarity("family_norm_l", "given_norm_r") >= 0.9 AND '
                  'jaro_winkler_similarity("given_norm_l", "family_norm_l") < 0.9')


#: names swapped token-wise: a token of one record's given name is a token of the other's
#: family name and the other way round, the record's own two names sharing no token.
#: "TORRES RODRIGUEZ SILVIA / MARIA" (family name and middle name typed into the given-name
#: box) against "Maria / Torres Rodriguez"; "CASTILLO / LUIS" against "Luis / Castillo Silva".
TOKEN_SWAP_SQL = ('len(list_intersect("given_toks_l", "family_toks_r")) > 0 AND '
                  'len(list_intersect("family_toks_l", "given_toks_r")) > 0 AND '
                  'len(list_intersect("given_toks_l", "family_toks_l")) = 0 AND '
                  'len(list_intersect("given_toks_r", "family_toks_r")) = 0')


def _lvl(sql: str, label: str, m: float, u: float, **extra: Any) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, "m_probability": m,
            "u_probability": u, **extra}


def _null(*cols: str) -> dict[str, Any]:
    cond = " OR ".join(f'"{c}_l" IS NULL OR "{c}_r" IS NULL' for c in cols)
    return {"sql_condition": cond, "label_for_charts": "missing", "is_null_level": True}


def _jw(col: str) -> str:
    return f'jaro_winkler_similarity("{col}_l", "{col}_r")'


#: the first given names' transliteration keys (resolve/names.py ``translit_token``) have
#: one consonant skeleton but different vowel marks: a feminine final -a (Ivan / Ivana,
#: Oleksandr / Oleksandra) or a diphthong (Hasan / Hussein). Different names that spelling
#: similarity (Jaro-Winkler, one edit, Metaphone, containment) would call the same: those
#: levels skip such pairs, so brother and sister twins reach "different" and the twins'
#: given-name rule. The pattern only matches consonant-skeleton keys (short names keep
#: their vowels, Maria / Mariya, and are not compared this way).
_SKELETON_KEY = "'^[a-z][^aeiouy]{2,}y?a?$'"
MARKS_DIFFER_SQL = (
    f'coalesce(regexp_matches("given_tk_l", {_SKELETON_KEY}) AND '
    f'regexp_matches("given_tk_r", {_SKELETON_KEY}) AND "given_tk_l" <> "given_tk_r" AND '
    """regexp_replace("given_tk_l", 'y?a?$', '') = regexp_replace("given_tk_r", 'y?a?$', ''), """
    'false)')


def _unless_marks_differ(sql: str) -> str:
    return f"({sql}) AND NOT {MARKS_DIFFER_SQL}"


#: the given names share a cognate group (resolve/names.py ``cognate_groups``): Mykola /
#: Nikolai / Nicholas, Maxamed / Mohamed, Hatice / Khadija. Below the spelling levels (a
#: pair that is also a spelling variant keeps that level), above the weak phonetic and
#: fuzzy ones; not term-frequency adjusted, so its trained weight is the same for every
#: group and stays moderate. Not the ELSE level, so the twins' given-name rule (a pair whose
#: given names land in "different") no longer holds a person's cross-language records out.
#: Only when no token of the two names agrees (by transliteration key): "Norma Maria" and
#: "Maria", "Aisha Fatima" and "Fatimah" share a *spelling* of a name, not a translation,
#: and keep the weak levels below (contains, a token agrees) that EM learned for sisters
#: and twins sharing a middle name; measured at 100,000 people, they were most of the
#: different-person pairs this level caught before the condition.
COGNATE_SQL = ('len(list_intersect("given_cog_l", "given_cog_r")) > 0 AND '
               'len(list_intersect("given_toks_l", "given_toks_r")) = 0')
COGNATE_LABEL = "cross-language form of the same name (Mykola / Nikolai / Nicholas)"


def given_name_comparison(tf: float = 1.0) -> dict[str, Any]:
    g = {"tf_adjustment_column": "given_norm", "tf_adjustment_weight": tf}
    if NAME_TF_FLOOR:
        g["tf_minimum_u_value"] = NAME_TF_FLOOR
    return {
        "output_column_name": "given_name",
        "comparison_description": "given names: exact (TF), swapped, transliteration key, "
                                  "first token, fuzzy, cross-language form, phonetic, initial",
        "comparison_levels": [
            _null("given_norm"),
            _lvl('"given_norm_l" = "given_norm_r"', "exact", 0.70, 0.004, **g),
            _lvl(SWAP_SQL, "given/family swapped", 0.02, 0.0006,
                 fix_m_probability=True, fix_u_probability=True),
            _lvl(FUZZY_SWAP_SQL, "given/family swapped, with typos", 0.01, 0.0005,
                 fix_m_probability=True, fix_u_probability=True),
            _lvl(TOKEN_SWAP_SQL, "given/family swapped, compound or middle names", 0.01, 0.0005,
                 fix_m_probability=True, fix_u_probability=True),
            _lvl('"given_key_l" = "given_key_r"', "same transliteration key", 0.08, 0.002, **g),
            _lvl('"given_tk_l" = "given_tk_r"', "first name token agrees", 0.04, 0.004, **g),
            _lvl(_unless_marks_differ(f'{_jw("given_norm")} >= 0.92'), "jaro-winkler >= 0.92", 0.05, 0.004, **g),
            _lvl(_unless_marks_differ(
                 'least(length("given_first_l"), length("given_first_r")) >= 3 AND '
                 'damerau_levenshtein("given_first_l", "given_first_r") <= 1'),
                 "first name token within one edit (Jun / Ujn, Omar / Oar)", 0.03, 0.002, **g),
            _lvl(COGNATE_SQL, COGNATE_LABEL, 0.01, 0.0005),
            _lvl(_unless_marks_differ('"given_ph_l" = "given_ph_r"'), "phonetic key agrees",
                 0.02, 0.005),
            _lvl(_unless_marks_differ(
                 'least(length("given_norm_l"), length("given_norm_r")) >= 3 AND '
                 '(contains("given_norm_l", "given_norm_r") OR contains("given_norm_r", "given_norm_l"))'),
                 "one given name contains the other (Emeka / Chukwuemeka)", 0.02, 0.002),
            _lvl('len(list_intersect("given_toks_l", "given_toks_r")) > 0',
                 "a given-name token agrees (a middle name used as the first)", 0.02, 0.002),
            _lvl('len(list_intersect("given_toks_l", "family_toks_r")) > 0 OR '
                 'len(list_intersect("family_toks_l", "given_toks_r")) > 0',
                 "given name written in the other's family-name field", 0.01, 0.002),
            _lvl('(length("given_norm_l") = 1 OR length("given_norm_r") = 1) AND '
                 'left("given_norm_l", 1) = left("given_norm_r", 1)', "initial agrees",
                 0.01, 0.01),
            _lvl(_unless_marks_differ(f'{_jw("given_norm")} >= 0.8'), "jaro-winkler >= 0.8",
                 0.02, 0.05),
            {"sql_condition": "ELSE", "label_for_charts": "different", "m_probability": 0.03,
             "u_probability": 0.92},
        ],
    }


def family_name_comparison(tf: float = 1.0) -> dict[str, Any]:
    f = {"tf_adjustment_column": "family_norm", "tf_adjustment_weight": tf}
    if NAME_TF_FLOOR:
        f["tf_minimum_u_value"] = NAME_TF_FLOOR
    return {
        "output_column_name": "family_name",
        "comparison_description": "family names: exact (TF), swapped, transliteration key, "
                                  "one edit, any token of a compound name, phonetic",
        "comparison_levels": [
            _null("family_norm"),
            _lvl('"family_norm_l" = "family_norm_r"', "exact", 0.75, 0.002, **f),
            _lvl(SWAP_SQL, "given/family swapped", 0.02, 0.0006,
                 fix_m_probability=True, fix_u_probability=True),
            _lvl(FUZZY_SWAP_SQL, "given/family swapped, with typos", 0.01, 0.0005,
                 fix_m_probability=True, fix_u_probability=True),
            _lvl(TOKEN_SWAP_SQL, "given/family swapped, compound or middle names", 0.01, 0.0005,
                 fix_m_probability=True, fix_u_probability=True),
            _lvl('"family_key_l" = "family_key_r"', "same transliteration key", 0.06, 0.001, **f),
            _lvl('damerau_levenshtein("family_norm_l", "family_norm_r") <= 1 OR '
                 f'{_jw("family_norm")} >= 0.94', "one edit / jaro-winkler >= 0.94",
                 0.06, 0.002, **f),
            _lvl('len(list_intersect("family_toks_l", "family_toks_r")) > 0',
                 "a token of a compound name agrees", 0.04, 0.002),
            _lvl('"family_ph_l" = "family_ph_r"', "phonetic key agrees", 0.02, 0.003),
            _lvl('len(list_intersect("given_toks_l", "family_toks_r")) > 0 OR '
                 'len(list_intersect("family_toks_l", "given_toks_r")) > 0',
                 "family name written in the other's given-name field", 0.01, 0.002),
            _lvl(f'{_jw("family_norm")} >= 0.8', "jaro-winkler >= 0.8", 0.02, 0.03),
            {"sql_condition": "ELSE", "label_for_charts": "different", "m_probability": 0.02,
             "u_probability": 0.96},
        ],
    }


def birth_date_comparison() -> dict[str, Any]:
    d = '"dob_l"', '"dob_r"'
    jan1 = "(month({x}) = 1 AND day({x}) = 1)"
    return {
        "output_column_name": "birth_date",
        "comparison_description": "birth date: exact (Jan-1 placeholder apart), day/month "
                                  "swapped, one-character typo, "
                                  "year off by one, Jan-1 placeholder, within a year",
        "comparison_levels": [
            _null("dob"),
            # 1 January stands in for an unknown day and month (many migrants' documents
            # carry it): two records "born" on the same 1 January agree on the year only,
            # so this agreement has its own (trained) weight, below a real exact date
            _lvl(f"{d[0]} = {d[1]} AND {jan1.format(x=d[0])}",
                 "exact, but a Jan-1 placeholder", 0.02, 0.0003),
            _lvl(f"{d[0]} = {d[1]}", "exact", 0.85, 0.0003),
            _lvl(f"year({d[0]}) = year({d[1]}) AND month({d[0]}) = day({d[1]}) AND "
                 f"day({d[0]}) = month({d[1]})", "day and month swapped", 0.02, 0.00001),
            _lvl(f"damerau_levenshtein(strftime({d[0]}, '%Y%m%d'), strftime({d[1]}, '%Y%m%d')) <= 1",
                 "one-character typo", 0.06, 0.003),
            _lvl(f"month({d[0]}) = month({d[1]}) AND day({d[0]}) = day({d[1]}) AND "
                 f"abs(year({d[0]}) - year({d[1]})) <= 1", "year off by one", 0.02, 0.0006),
            _lvl(f"year({d[0]}) = year({d[1]}) AND ({jan1.format(x=d[0])} OR {jan1.format(x=d[1])})",
                 "same year, one is a Jan-1 placeholder", 0.02, 0.0008),
            _lvl(f"abs(date_diff('day', {d[0]}, {d[1]})) <= 366", "within a year", 0.01, 0.03),
            {"sql_condition": "ELSE", "label_for_charts": "different", "m_probability": 0.02,
             "u_probability": 0.966},
        ],
    }


def identifier_comparison(col: str, label: str, m_exact: float = 0.9) -> dict[str, Any]:
    return {
        "output_column_name": col,
        "comparison_description": f"{label}: exact, one edit or transposition, different",
        "comparison_levels": [
            _null(col),
            _lvl(f'"{col}_l" = "{col}_r"', "exact", m_exact, 0.00001),
            _lvl(f'damerau_levenshtein("{col}_l", "{col}_r") <= 1',
                 "one edit or transposition", 0.97 - m_exact, 0.0002),
            {"sql_condition": "ELSE", "label_for_charts": "different", "m_probability": 0.03,
             "u_probability": 0.99979},
        ],
    }


def address_comparison() -> dict[str, Any]:
    both_null = ('("street_address_l" IS NULL OR "street_address_r" IS NULL) AND '
                 '("postcode_l" IS NULL OR "postcode_r" IS NULL) AND '
                 '("locality_l" IS NULL OR "locality_r" IS NULL)')
    return {
        "output_column_name": "address",
        "comparison_description": "address: street + postcode, fuzzy street, postcode, locality",
        "comparison_levels": [
            {"sql_condition": both_null, "label_for_charts": "missing", "is_null_level": True},
            _lvl('"street_address_l" = "street_address_r" AND '
                 'coalesce("postcode_l" = "postcode_r" OR "locality_l" = "locality_r", '
                 '"postcode_l" = "postcode_r", "locality_l" = "locality_r", true)',
                 "same street address (postcode or locality agrees)", 0.5, 0.0005),
            _lvl('"street_num_l" = "street_num_r" AND "postcode_l" = "postcode_r" AND '
                 f'{_jw("street_address")} >= 0.8',
                 "same house number and postcode, street alike", 0.1, 0.0005),
            _lvl(f'{_jw("street_address")} >= 0.9', "street jaro-winkler >= 0.9", 0.15, 0.002),
            _lvl('"postcode_l" = "postcode_r"', "same postcode", 0.1, 0.01),
            _lvl('"locality_l" = "locality_r"', "same locality", 0.1, 0.05),
            {"sql_condition": "ELSE", "label_for_charts": "different", "m_probability": 0.15,
             "u_probability": 0.9375},
        ],
    }


def simple_comparison(col: str, label: str, m: float, u: float) -> dict[str, Any]:
    return {
        "output_column_name": col,
        "comparison_description": label,
        "comparison_levels": [
            _null(col),
            _lvl(f'"{col}_l" = "{col}_r"', "exact", m, u),
            {"sql_condition": "ELSE", "label_for_charts": "different", "m_probability": 1 - m,
             "u_probability": 1 - u},
        ],
    }


def contact_comparison() -> dict[str, Any]:
    return {
        "output_column_name": "contact",
        "comparison_description": "phone or e-mail",
        "comparison_levels": [
            {"sql_condition": '("phone_l" IS NULL OR "phone_r" IS NULL) AND '
                              '("email_l" IS NULL OR "email_r" IS NULL)',
             "label_for_charts": "missing", "is_null_level": True},
            _lvl('"phone_l" = "phone_r" OR "email_l" = "email_r"', "same phone or e-mail",
                 0.6, 0.0005),
            {"sql_condition": "ELSE", "label_for_charts": "different", "m_probability": 0.4,
             "u_probability": 0.9995},
        ],
    }


def comparisons(tf: float = 1.0) -> list[dict[str, Any]]:
    """The model's comparisons; ``tf`` scales the term-frequency adjustments of names
    (0 on workspaces too small for frequencies to mean anything)."""
    return [
        given_name_comparison(tf),
        family_name_comparison(tf),
        birth_date_comparison(),
        identifier_comparison("a_number", "A-number", 0.93),
        identifier_comparison("passport", "passport number", 0.85),
        identifier_comparison("fbi", "FBI number", 0.9),
        identifier_comparison("national_id", "national id", 0.85),
        address_comparison(),
        contact_comparison(),
        simple_comparison("nationality", "nationality", 0.95, 0.05),
        simple_comparison("birth_country", "birth country", 0.95, 0.05),
        simple_comparison("sex", "sex", 0.97, 0.5),
    ]


#: a name (given + family key) carried by at most this many records counts as rare
RARE_NAME_RECORDS = 25


def blocking_rules() -> list[Any]:
    """Rules generating candidate pairs: each an equi-join, so pair counts stay near-linear.

    Chosen with Splink's blocking analysis (see ``benchmarks/bench_resolve.py``):
    identifiers catch records whose names are garbled; name keys + birth year catch
    date typos; date + one name key catch name typos; the swap rule catches given/family
    order swaps; date + postcode catches records with unusable names.
    """
    rare = f"l.name_n <= {RARE_NAME_RECORDS} and r.name_n <= {RARE_NAME_RECORDS}"
    no_dob = "(l.dob is null or r.dob is null)"
    return [
        block_on("a_number"),
        block_on("passport"),
        block_on("fbi"),
        block_on("national_id"),
        block_on("given_tk", "family_key", "birth_year", "birth_month"),   # day typo
        block_on("given_tk", "family_key", "birth_year", "birth_md_sorted"),  # day/month swap
        block_on("given_tk", "family_key", "birth_md"),                    # year typo
        block_on("family_key", "dob"),
        block_on("given_tk", "dob"),
        block_on("dob", "postcode"),
        "l.given_tk = r.family_key and l.dob = r.dob",
        "l.family_key = r.given_tk and l.dob = r.dob",  # rules are not symmetric: mirror
        # Jan-1 placeholder dates
        ("l.given_tk = r.given_tk and l.family_key = r.family_key and l.birth_year = r.birth_year"
         " and (l.birth_md = '0101' or r.birth_md = '0101')"),
        block_on("given_tk", "family_key", "locality"),
        block_on("street_address", "postcode"),
        block_on("street_address", "locality"),          # postcode typo
        block_on("given_tk", "locality", "birth_year"),  # family name typo, date typo
        block_on("family_key", "street_num", "locality"),  # given name replaced
        block_on("street_num", "postcode", "given_tk"),
        block_on("street_num", "postcode", "family_first"),
        block_on("given_tk", "family_key", "postcode"),
        # records carrying a name but no birth date (utility, mail, employer files): the
        # name keys alone, for names rare enough that this stays linear and means something
        # the same rare name with different birth dates too: namesakes are then scored
        # against each other, so that clustering sees the conflict when a name-only record
        # links to both of them
        f"l.given_tk = r.given_tk and l.family_key = r.family_key and {rare}",
        f"l.given_tk = r.given_tk and l.family_first = r.family_first and {no_dob} and {rare}",
        f"l.given_tk = r.given_tk and l.family_last = r.family_last and {no_dob} and {rare}",
        (f"l.given_tk = r.family_key and l.family_key = r.given_tk and l.given_tk <> l.family_key"
         f" and {rare} and (abs(l.birth_year - r.birth_year) <= 1 or {no_dob})"),
        block_on("phone"),
        block_on("email"),
    ]


def settings(prior: float = 1e-4, *, explain: bool = False, tf: float = 1.0
             ) -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons(tf),
        blocking_rules_to_generate_predictions=blocking_rules(),
        probability_two_random_records_match=prior,
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=explain,
        max_iterations=12,
        em_convergence=0.002,
    )
