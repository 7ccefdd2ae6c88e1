"""Parsing rules: names, street lines, dates, booleans, identifiers (with property tests)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casegraph.ontology import IDENTITY_BY_NAME, KINDS
from casegraph.sources.normalise import normalise_text
from casegraph.sources.parse import (
    NAME_PARTICLES,
    NAME_SUFFIXES,
    UNIT_WORDS,
    normalise_array,
    parse_full_name,
    parse_street_address,
    split_full_name,
)
from casegraph.sources.transform import parse_values

BIRTH = IDENTITY_BY_NAME["birth_date"]
DEPARTS = KINDS["transport_leg"].fields["departs_at"]
ABSENTIA = KINDS["removal_order"].fields["in_absentia"]
SEATS = KINDS["transport_leg"].fields["seats"]
SEX = IDENTITY_BY_NAME["sex"]
ORDER_DATE = KINDS["removal_order"].fields["order_date"]
ANUM = IDENTITY_BY_NAME["a_number"]

_reserved = {*NAME_PARTICLES, *NAME_SUFFIXES, "v"}
word = st.from_regex(r"[A-Z][a-z]{1,9}", fullmatch=True).filter(
    lambda w: w.lower() not in _reserved)


@pytest.mark.parametrize("name, parts", [
    ("GARCIA LOPEZ, MARIA", ("MARIA", None, "GARCIA LOPEZ")),
    ("NGUYEN, VAN AN", ("VAN", "AN", "NGUYEN")),
    ("Van An Nguyen", ("Van", "An", "Nguyen")),
    ("Juan de la Cruz", ("Juan", None, "de la Cruz")),
    ("Maria Elena de la Cruz", ("Maria", "Elena", "de la Cruz")),
    ("John Smith Jr.", ("John", None, "Smith")),
    ("SMITH, JOHN, JR", ("JOHN", None, "SMITH")),
    ("  maria \u00a0 garcia ", ("maria", None, "garcia")),
    ("Madonna", (None, None, "Madonna")),
    ("O'Brien, Seán", ("Seán", None, "O'Brien")),
    ("", (None, None, None)),
    (None, (None, None, None)),
])
def test_full_name_examples(name, parts):
    assert parse_full_name(name) == parts


@settings(deadline=None)
@given(family=st.lists(word, min_size=1, max_size=3), given_=word,
       middle=st.lists(word, max_size=2))
def test_last_comma_first_round_trip(family, given_, middle):
    text = f"{' '.join(family)}, {' '.join([given_, *middle])}"
    assert parse_full_name(text) == (given_, " ".join(middle) or None, " ".join(family))


@settings(deadline=None)
@given(given_=word, middle=st.lists(word, max_size=2), family=word)
def test_first_middle_last_round_trip(given_, middle, family):
    text = " ".join([given_, *middle, family])
    assert parse_full_name(text) == (given_, " ".join(middle) or None, family)


@settings(deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=30)), max_size=30))
def test_split_full_name_never_fails_and_keeps_words(values):
    g, m, f = split_full_name(values)
    for v, parts in zip(values, zip(g.to_pylist(), m.to_pylist(), f.to_pylist())):
        if v is None or not v.strip():
            assert parts == (None, None, None)


@pytest.mark.parametrize("line, parts", [
    ("123 Main St Apt 4", ("123", "Main St", "Apt 4")),
    ("1200 Main St Apt 4", ("1200", "Main St", "Apt 4")),
    ("55 Elm St", ("55", "Elm St", None)),
    ("123 Main St #4", ("123", "Main St", "#4")),
    ("123 Main St, Apt. 4B", ("123", "Main St", "Apt. 4B")),
    ("100-102 Oak Rd Suite 200", ("100-102", "Oak Rd", "Suite 200")),
    ("12 Lotus Ln", ("12", "Lotus Ln", None)),
    ("PO Box 12", (None, "PO Box 12", None)),
    (None, (None, None, None)),
])
def test_street_address_examples(line, parts):
    assert parse_street_address(line) == parts


@settings(deadline=None)
@given(number=st.integers(1, 99999), street=st.lists(word, min_size=1, max_size=3),
       suffix=st.sampled_from(["St", "Ave", "Rd", "Blvd", "Ln"]),
       unit=st.one_of(st.none(), st.tuples(st.sampled_from(["Apt", "Unit", "Suite", "#"]),
                                           st.integers(1, 999))))
def test_street_address_round_trip(number, street, suffix, unit):
    street_name = " ".join([*street, suffix])
    unit_text = None if unit is None else (f"#{unit[1]}" if unit[0] == "#"
                                           else f"{unit[0]} {unit[1]}")
    line = " ".join(p for p in (str(number), street_name, unit_text) if p)
    assert parse_street_address(line) == (str(number), street_name, unit_text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=40),
                          st.text(alphabet="AbC é_-.,'\t\x1c\u00a0ß", max_size=20)),
                max_size=40))
def test_vectorised_normalise_equals_normalise_text(values):
    assert normalise_array(values).to_pylist() == [normalise_text(v) for v in values]


FORMATS = ["%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%Y%m%d", "%d %b %Y", "%B %d, %Y", "%m-%d-%y"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.dates(dt.date(1950, 1, 1), dt.date(2045, 12, 31)), min_size=1, max_size=20),
       st.sampled_from(FORMATS))
def test_dates_with_format_round_trip(dates, fmt):
    out = parse_values(ORDER_DATE, [d.strftime(fmt) for d in dates], [fmt])
    assert [v for v, _ in out] == dates


@settings(max_examples=30, deadline=None)
@given(st.lists(st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1)).map(
    lambda d: d.replace(microsecond=0)), min_size=1, max_size=20))
def test_bare_iso_dates_and_datetimes(values):
    dates = parse_values(ORDER_DATE, [v.date().isoformat() for v in values])
    assert [d for d, _ in dates] == [v.date() for v in values]
    times = parse_values(DEPARTS, [v.isoformat() for v in values])
    assert [t for t, _ in times] == values


def test_two_digit_years_stay_in_the_past_window():
    out = parse_values(BIRTH, ["03-14-85", "03-14-05"], ["%m-%d-%y"])
    assert [v for v, _ in out] == [dt.date(1985, 3, 14), dt.date(2005, 3, 14)]


def test_implausible_birth_dates():
    out = parse_values(BIRTH, ["2999-01-01", "1850-05-05", "1950-05-05"])
    assert [v for v, _ in out] == [None, None, dt.date(1950, 5, 5)]
    assert "implausible birth date" in out[0][1]
    order_date = KINDS["removal_order"].fields["order_date"]
    assert parse_values(order_date, ["2999-01-01"])[0][0] == dt.date(2999, 1, 1)


def test_date_problems():
    out = parse_values(BIRTH, ["19670231", "2026-02-30", "03/14/1985", "1985-03-14", "",
                               "2026-11-03T09:00:00"])
    assert [v for v, _ in out] == [None, None, None, dt.date(1985, 3, 14), None,
                                   dt.date(2026, 11, 3)]
    assert "ISO 8601" in out[0][1] and out[4][1] is None
    out = parse_values(BIRTH, ["02/31/1967"], ["%m/%d/%Y"])
    assert out == [(None, "not a date in format %m/%d/%Y")]
    out = parse_values(BIRTH, ["1985-03-14", "14/03/1985"], ["%Y-%m-%d", "%d/%m/%Y"])
    assert [v for v, _ in out] == [dt.date(1985, 3, 14)] * 2


def test_datetime_with_offset_is_utc():
    out = parse_values(DEPARTS, ["2026-11-03T09:00:00+02:00", "2026-11-03T09:00:00Z",
                                 "2026-11-03 09:00"])
    assert [v for v, _ in out] == [dt.datetime(2026, 11, 3, 7), dt.datetime(2026, 11, 3, 9),
                                   dt.datetime(2026, 11, 3, 9)]


def test_booleans():
    words = ["true", "False", "YES", "no", "1", "0", "Y", "n", "maybe"]
    out = parse_values(ABSENTIA, words)
    assert [v for v, _ in out] == [True, False, True, False, True, False, True, False, None]
    assert out[-1][1].startswith("not a yes/no value")


def test_numbers_and_enums():
    out = parse_values(SEATS, ["135", "1,200", "12.0", "12.5", "x"])
    assert [v for v, _ in out] == [135, 1200, 12, None, None]
    out = parse_values(SEX, ["m", "Female", "X", "unknown", "q"])
    assert [v for v, _ in out] == ["M", "F", "X", None, None]
    assert out[3][1] is None and out[4][1].startswith("not one of")
    channel = KINDS["departure"].fields["channel"]
    assert [v for v, _ in parse_values(channel, ["Air Exit", "SELF-REPORT", "land_exit"])] == [
        "air_exit", "self_report", "land_exit"]


a_number_text = st.tuples(st.integers(0, 999_999_999),
                          st.sampled_from(["{}", "A{}", "a-{}", "A {}"]), st.booleans())


@settings(deadline=None, max_examples=30)
@given(st.lists(a_number_text, min_size=1, max_size=30))
def test_a_number_cleaning(cases):
    texts, digits_list = [], []
    for n, template, dashes in cases:
        digits = str(n)
        digits_list.append(digits)
        texts.append(template.format("-".join([digits[:3], digits[3:6], digits[6:]])
                                     if dashes else digits))
    for digits, (value, problem) in zip(digits_list, parse_values(ANUM, texts)):
        if 8 <= len(digits) <= 9:
            assert value == digits.zfill(9) and problem is None
        else:
            assert value is None and "A-number" in problem


def test_unit_words_are_lower_case():
    assert all(w == w.lower() for w in UNIT_WORDS)


def test_countries_codes_names_demonyms():
    nat = IDENTITY_BY_NAME["nationality"]
    out = parse_values(nat, ["mx", "MEX", "Mexico", "Salvadoran", "El Salvador", "South Korea",
                             "NA", "XX", "Atlantis"])
    assert [v for v, _ in out] == ["MX", "MX", "MX", "SV", "SV", "KR", "NA", None, None]
    assert out[7][1] is None and "unknown country" in out[8][1]


@pytest.mark.parametrize("value, parts", [
    ("1200 Main St Apt 4, Houston, TX 77002", ("1200 Main St Apt 4", "Houston", "TX", "77002")),
    ("12 Oak Rd, Unit 3, El Paso, tx 79901-1234",
     ("12 Oak Rd, Unit 3", "El Paso", "TX", "79901-1234")),
    ("PO Box 5, Houston TX", ("PO Box 5", "Houston", "TX", None)),
    ("55 Elm St", ("55 Elm St", None, None, None)),
    ("123 Main St, Apt 4", ("123 Main St, Apt 4", None, None, None)),
    ("100 Main St, Suite AB", ("100 Main St, Suite AB", None, None, None)),
])
def test_one_line_address_tail(value, parts):
    from casegraph.sources.parse import split_address_tail

    got = tuple(c[0].as_py() for c in split_address_tail([value]))
    assert got == parts
