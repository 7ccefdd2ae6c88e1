"""The transliteration key must fold spellings of one name and keep different names apart.

A key shared by two different names puts a pair of different people on the strong "same
transliteration key" level and keeps the twins' rule (``distinct_given_names_veto``) from
firing: brother and sister twins (Oleksandr / Oleksandra) at one address with one birth
date, or twin brothers Hasan and Hussein, would merge. The pairs are written from how the
names are spelled across schemes and genders, not from any generator.
"""

from __future__ import annotations

import pytest

from casegraph.resolve import model as rmodel
from casegraph.resolve import names
from casegraph.resolve import training as rtraining
from casegraph.workspace import Workspace
from tests.factories import person_of, resolved_workspace
from tests.resolve.linkers import levels_of, prior_linker

key = names.translit_token

SAME = [
    ("mohammed", "muhammad", "mohamed", "mohammad", "muhammed", "mohamad"),
    ("youssef", "yusuf", "yousef", "yousif"),
    ("hussein", "husain", "hussain", "husayn", "husein", "huseyin", "hussien"),
    ("hasan", "hassan"),
    ("oleksandr", "aleksandr", "alexander", "oleksander"),
    ("oleksandra", "aleksandra", "alexandra"),
    ("nguyen", "ngyuen"),
    ("yevhen", "evgen", "yevgen", "evgeny", "yevgeniy"),
    ("yevheniia", "yevgeniya", "evgenia"),
    ("mahmoud", "mahmud", "mohamud", "mahamud", "mahmood", "maxamuud"),
    ("ivan", "iwan"),
    ("daniel", "danial"),
    ("fatima", "fatma", "fatimah"),
    ("hamza", "hamzah"),
    ("mustafa", "mostafa", "moustapha"),
    ("natalia", "natalya", "nataliya"),
    ("viktoriia", "victoria", "viktoriya"),
    ("olga", "olha"),
    ("sergei", "sergey", "serhiy"),
    ("mikhail", "mykhailo", "mihail"),
    ("faisal", "faysal", "feisal"),
    ("zainab", "zaynab", "zeinab"),
    ("ahmed", "ahmad"),
    ("khalid", "khaled"),
]

DIFFERENT = [
    ("hasan", "hussein"), ("hassan", "husayn"), ("hasan", "husain"), ("hassan", "hussain"),
    ("hasan", "huseyin"),
    ("oleksandr", "oleksandra"), ("alexander", "alexandra"), ("ivan", "ivana"),
    ("yevhen", "yevheniia"), ("evgeny", "evgenia"), ("daniel", "daniela"),
    ("mario", "maria"), ("viktor", "viktoriia"), ("roman", "romana"),
    ("stanislav", "stanislava"), ("antonio", "antonia"), ("francesco", "francesca"),
    ("jan", "jana"), ("paulo", "paula"),
    ("mohamud", "mohamed"), ("mahamud", "muhammad"), ("mahmoud", "mohammed"),
    ("hasan", "hussien"),
]


@pytest.mark.parametrize("forms", SAME, ids=lambda f: "/".join(f))
def test_spellings_of_one_name_share_a_key(forms: tuple[str, ...]) -> None:
    assert len({key(f) for f in forms}) == 1, {f: key(f) for f in forms}


@pytest.mark.parametrize("a,b", DIFFERENT)
def test_different_names_get_different_keys(a: str, b: str) -> None:
    assert key(a) != key(b)


def test_whole_name_keys_follow_the_token_keys() -> None:
    assert names.name_key("oleksandr") != names.name_key("oleksandra")
    assert names.first_token_key("husayn ali") == names.first_token_key("hussein")
    assert names.token_keys("ivana maria") != names.token_keys("ivan maria")


def test_doctests_of_the_module_hold() -> None:
    import doctest

    assert doctest.testmod(names).failed == 0


def test_marks_differ_sql_tells_marked_forms_apart(ws: Workspace) -> None:
    def differ(a: str, b: str) -> bool:
        sql = rmodel.MARKS_DIFFER_SQL.replace('"given_tk_l"', "$a").replace('"given_tk_r"', "$b")
        return ws.con.execute(f"select {sql}", {"a": key(a), "b": key(b)}).fetchone()[0]

    assert differ("ivan", "ivana") and differ("hasan", "hussein")
    assert differ("oleksandra", "oleksandr") and differ("hassan", "husayn")
    assert not differ("hussein", "husayn")        # one name
    assert not differ("maria", "mariya")          # short names keep vowels: not this rule
    assert not differ("ivan", "dmytro")           # different skeletons: "different" anyway


def test_marks_differ_sql_transpiles_to_spark() -> None:
    from casegraph.scaleout.dialect import duckdb_to_spark

    assert "REGEXP" in duckdb_to_spark(rmodel.MARKS_DIFFER_SQL).upper()


# ---- the cognate level never outweighs the transliteration key ------------------------------

def test_cognate_level_is_capped_at_the_transliteration_key(ws: Workspace) -> None:
    linker = prior_linker(ws)
    lv = levels_of(linker, "given_name")
    tkey, cog = lv["same transliteration key"], lv[rmodel.COGNATE_LABEL]
    tkey.m_probability, tkey.u_probability = 0.08, 0.002          # 2^5.3
    cog.m_probability, cog.u_probability = 0.05, 0.0005          # EM: 2^6.6, above the key
    rtraining._sanitise(linker)
    assert cog._m_probability / cog._u_probability == pytest.approx(0.08 / 0.002)
    assert cog._u_probability == 0.0005
    cog.m_probability = 0.005                                     # below the key: untouched
    rtraining._sanitise(linker)
    assert cog._m_probability == pytest.approx(0.005)


# ---- end to end: brother and sister twins stay two people ------------------------------------

def _person(given: str, rid: str, family: str, dob: str, street: str, **kw: object
            ) -> dict[str, object]:
    return {"source": kw.pop("source", "subjects"), "record_id": rid, "kind": "person",
            "given_name": given, "family_name": family, "birth_date": dob,
            "street_address": street, "postcode": "60601", **kw}


TWINS = [
    ("Oleksandr", "Oleksandra", "Bondarenko", "1999-09-09", "4 Pine Rd"),
    ("Ivan", "Ivana", "Petrovic", "2001-03-14", "9 Elm St"),
    ("Daniel", "Daniela", "Moreno", "1995-07-21", "31 Lake Ave"),
    ("Hasan", "Hussein", "Al Tamimi", "1990-01-01", "7 Birch Ct"),
]


@pytest.fixture(scope="module")
def twins_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    rows = []
    for i, (a, b, fam, dob, street) in enumerate(TWINS):
        rows.append(_person(a, f"T{i}a", fam, dob, street))
        rows.append(_person(b, f"T{i}b", fam, dob, street, source="bookings"))
    # control: one man, two spellings of his name across schemes, nothing but name,
    # birth date and address shared: one person
    rows.append(_person("Yevhen", "C1", "Kovalenko", "1988-04-02", "15 Oak St"))
    rows.append(_person("Evgeny", "C2", "Kovalenko", "1988-04-02", "15 Oak St",
                        source="bookings"))
    yield from resolved_workspace(tmp_path_factory, "twins", rows)


def test_brother_and_sister_twins_stay_two_people(twins_ws: Workspace) -> None:
    po = person_of(twins_ws)
    for i in range(len(TWINS)):
        assert po[f"subjects:T{i}a"] != po[f"bookings:T{i}b"], TWINS[i]
    assert po["subjects:C1"] == po["bookings:C2"]
