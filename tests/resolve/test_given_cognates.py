"""Given-name cognates: the bundled table, the ``given_cog`` key, the model level, the twins'
rule and the explanation.

The pairs below are chosen to be ones a synthetic generator is unlikely to produce
(Somali orthography, Belarusian and Cyrillic forms, Egyptian g for j, Turkish spellings):
the table is written from how names correspond across languages, not from any generator.
"""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from casegraph.resolve import model as rmodel
from casegraph.resolve import names
from casegraph.resolve.prepare import INPUT_TABLE, build_input
from casegraph.workspace import Workspace
from tests.factories import insert_records, person_of, resolved_workspace


def groups(name: str) -> set[str]:
    return set(names.cognate_groups(names.norm(name)) or ())


# ---- the table --------------------------------------------------------------------------------

def _rows() -> list[dict[str, str]]:
    text = (resources.files("casegraph.resolve") / "data" / names.COGNATES_FILE
            ).read_text(encoding="utf-8")
    return list(csv.DictReader(line for line in text.splitlines()
                               if line.strip() and not line.startswith("#")))


def test_table_is_well_formed() -> None:
    rows = _rows()
    assert len(rows) > 400
    seen: dict[str, str] = {}
    for r in rows:
        assert r["group"] and r["form"] and r["note"], r
        assert r["group"].endswith(("_m", "_f")), r    # one group per name and gender
        key = names._form_key(r["form"])
        assert key, r
        # a form (as record names are normalised) belongs to one group only
        assert seen.setdefault(key, r["group"]) == r["group"], (key, seen[key], r["group"])
    by_group: dict[str, int] = {}
    for r in rows:
        by_group[r["group"]] = by_group.get(r["group"], 0) + 1
    assert min(by_group.values()) >= 2


@pytest.mark.parametrize("a,b", [
    ("Mykola", "Nikolai"), ("Mykola", "Nicholas"), ("Mikalai", "Mikołaj"),
    ("Микола", "Nikolay"), ("Yevhen", "Evgeny"), ("Ievgen", "Yauhen"), ("Serhii", "Sergey"),
    ("Siarhei", "Serhiy"), ("Uladzimir", "Volodymyr"), ("Hryhorii", "Grigory"),
    ("Heorhii", "Giorgi"), ("Pylyp", "Philip"), ("Fedir", "Theodore"), ("Afanasiy", "Athanasios"),
    ("Halyna", "Galina"), ("Olha", "Volha"), ("Tetiana", "Tatsiana"), ("Nadiia", "Nadezhda"),
    ("Maxamed", "Mohamed"), ("Mohd", "Muhammad"), ("Mohamud", "Mahmoud"),
    ("Cabdiraxmaan", "Abdul Rahman"), ("Abd al-Rahman", "Abderrahmane"),
    ("Xuseen", "Hossein"), ("Guseyn", "Hüseyin"), ("Hatice", "Khadija"), ("Caasha", "Ayşe"),
    ("Gamal", "Jamal"), ("Cevat", "Javad"), ("Ghasem", "Qasim"), ("Youcef", "Yusuf"),
    ("Ibragim", "Ibrahim"), ("Uthman", "Osman"), ("Panagiotis", "Panayiotis"),
    ("Jordi", "Jorge"), ("João", "Juan"),
])
def test_cognates_share_a_group(a: str, b: str) -> None:
    assert groups(a) & groups(b), (a, b)


@pytest.mark.parametrize("a,b", [
    ("Oleksandr", "Oleksandra"), ("Yevhen", "Yevheniia"),   # masculine / feminine
    ("Hassan", "Hussein"),                                   # the classic twins' names
    ("Mohamud", "Mohamed"),        # Somali Mohamud is Mahmoud, not Mohamed
    ("Mehmet", "Muhammad"),        # co-existing Turkish names
    ("Mamadou", "Mohamed"),        # co-existing West African names
    ("Ivan", "Juan"),              # co-existing Spanish names
    ("Hanna", "Anna"), ("Yurii", "Heorhii"), ("Mykola", "Mykyta"), ("Stepan", "Esteban"),
])
def test_different_names_do_not_share_a_group(a: str, b: str) -> None:
    assert not groups(a) & groups(b), (a, b)


def test_lookup_is_per_token_and_on_joined_tokens() -> None:
    assert groups("Mykola Ivanovych") == groups("Nikolai") == {"nikolai_m"}
    assert groups("Md Rahim") == {"muhammad_m"}
    assert groups("Natal'ya") == groups("Natalia")      # apostrophe splits the token
    assert names.cognate_groups(names.norm("Zzyzx")) is None
    assert names.cognate_groups(None) is None


# ---- the key and the model level ---------------------------------------------------------------

def test_build_input_carries_given_cog(ws: Workspace) -> None:
    insert_records(ws, [
        {"source": "a", "record_id": "1", "kind": "person", "given_name": "Mykola",
         "family_name": "Shevchenko"},
        {"source": "a", "record_id": "2", "kind": "person", "full_name": "SHEVCHENKO, NIKOLAI"},
        {"source": "a", "record_id": "3", "kind": "person", "given_name": "Zzyzx",
         "family_name": "Shevchenko"},
    ])
    build_input(ws)
    cog = dict(ws.con.execute(f"select record_id, given_cog from {INPUT_TABLE}").fetchall())
    assert cog["1"] == cog["2"] == ["nikolai_m"]
    assert cog["3"] is None


def test_cognate_level_sits_after_the_spelling_levels_and_is_not_else() -> None:
    levels = rmodel.given_name_comparison()["comparison_levels"]
    labels = [lv["label_for_charts"] for lv in levels]
    i = labels.index(rmodel.COGNATE_LABEL)
    assert labels.index("exact") < labels.index("same transliteration key") < i
    assert i < labels.index("phonetic key agrees") < len(labels) - 1
    assert labels[-1] == "different"
    lv = levels[i]
    # moderate: below the transliteration level's prior, and not term-frequency adjusted
    key = levels[labels.index("same transliteration key")]
    assert lv["m_probability"] / lv["u_probability"] < key["m_probability"] / key["u_probability"]
    assert "tf_adjustment_column" not in lv


def test_cognate_level_needs_names_that_share_no_spelling() -> None:
    import duckdb

    def level(l: str, r: str) -> bool:
        gl, gr = names.norm(l), names.norm(r)
        sql = (rmodel.COGNATE_SQL.replace('"given_cog_l"', "?").replace('"given_cog_r"', "?")
               .replace('"given_toks_l"', "?").replace('"given_toks_r"', "?"))
        args = [names.cognate_groups(gl) or [], names.cognate_groups(gr) or [],
                names.token_keys(gl), names.token_keys(gr)]
        return bool(duckdb.execute(f"select {sql}", [args[0], args[1], args[2], args[3]]
                                   ).fetchall()[0][0])

    assert level("Mykola", "Nikolai")
    assert level("Cabdiraxmaan", "Abdul Rahman")
    assert not level("Norma Maria", "Maria")        # a shared spelling, not a translation
    assert not level("Aisha Fatima", "Fatimah")
    assert not level("Mykola", "Mykyta")


def test_cognate_level_transpiles_to_spark() -> None:
    from casegraph.scaleout.dialect import duckdb_to_spark

    out = duckdb_to_spark(rmodel.COGNATE_SQL)
    assert "SIZE(ARRAY_INTERSECT(" in out.upper() and "LIST_INTERSECT" not in out.upper()


# ---- end to end: the twins' rule no longer fires on cognates ----------------------------------

def _person(given: str, rid: str, **kw: object) -> dict[str, object]:
    return {"source": kw.pop("source", "subjects"), "record_id": rid, "kind": "person",
            "given_name": given, "family_name": kw.pop("family_name", "Shevchenko"), **kw}


COGNATE_RECORDS = [
    # one man: Ukrainian passport (Mykola), a Russian-language document (Nikolai), no
    # identifier shared between the two, same birth date and address
    _person("Mykola", "U1", birth_date="1984-02-11", passport="FA123456",
            street_address="12 Oak St", postcode="60601"),
    _person("Nikolai", "R1", source="bookings", birth_date="1984-02-11",
            street_address="12 Oak St", postcode="60601"),
    # twins: same family name, birth date and address, different names (not cognates)
    _person("Oleksandr", "W1", family_name="Bondarenko", birth_date="1999-09-09",
            street_address="4 Pine Rd", postcode="60602"),
    _person("Dmytro", "W2", family_name="Bondarenko", birth_date="1999-09-09",
            street_address="4 Pine Rd", postcode="60602"),
    # cognate given names, same family name, different birth dates and nothing else shared:
    # two people; a cognate alone does not link them
    _person("Maxamed", "S1", family_name="Warsame", birth_date="1970-05-01"),
    _person("Mohamed", "S2", family_name="Warsame", birth_date="1992-10-23"),
]


@pytest.fixture(scope="module")
def cognate_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    yield from resolved_workspace(tmp_path_factory, "cognates", COGNATE_RECORDS)


def test_cognate_records_link_and_twins_stay_apart(cognate_ws: Workspace) -> None:
    po = person_of(cognate_ws)
    assert po["subjects:U1"] == po["bookings:R1"]
    assert po["subjects:W1"] != po["subjects:W2"]
    assert po["subjects:S1"] != po["subjects:S2"]


def test_explain_shows_the_cognate_level(cognate_ws: Workspace) -> None:
    from casegraph.resolve.explain import explain_pair

    e = explain_pair(cognate_ws, "subjects:U1", "bookings:R1")
    given = next(c for c in e["comparisons"] if c["comparison"] == "given_name")
    assert given["level"] == rmodel.COGNATE_LABEL
    assert 0 < given["match_weight"] < 8          # moderate evidence, not proof
    assert any("nikolai_m" in r for r in e["rules"])
    assert not any("clearly different given names" in r for r in e["rules"])
    twins = explain_pair(cognate_ws, "subjects:W1", "subjects:W2")
    assert any("clearly different given names" in r for r in twins["rules"])
