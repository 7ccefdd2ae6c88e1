"""A comparable form of a street address.

The same home is written differently by different systems: a utility bills
"7553 Lakeview Avenue Apt 4", a county jail books "7553 LAKEVIEW AVE #4", a DMV file
says "7553 Lakeview Ave 4". Compared as text these are three addresses. The key folds
the spellings that vary between systems and carry no identity: street-type and
direction words (the USPS standard abbreviations, which most agency systems already
use) and the unit designator (Apt / Unit / Suite / #), keeping the unit number itself.
It is applied in SQL so that a million addresses are keyed in one vectorised pass.
"""

from __future__ import annotations

#: long form -> standard abbreviation (USPS Publication 28, the common ones)
STREET_WORDS: dict[str, str] = {
    "avenue": "ave", "av": "ave", "street": "st", "str": "st", "road": "rd", "drive": "dr",
    "lane": "ln", "court": "ct", "circle": "cir", "boulevard": "blvd", "place": "pl",
    "terrace": "ter", "parkway": "pkwy", "highway": "hwy", "square": "sq", "trail": "trl",
    "crossing": "xing", "expressway": "expy", "freeway": "fwy", "heights": "hts",
    "mount": "mt", "point": "pt", "ridge": "rdg", "route": "rte", "center": "ctr",
    "north": "n", "south": "s", "east": "e", "west": "w",
    "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw",
}

#: words that only announce a unit number ("Apt 4", "Unit 4", "# 4" are one unit)
UNIT_WORDS = ("apartment", "apt", "unit", "suite", "ste", "room", "rm", "no", "number")


def address_key_sql(expr: str) -> str:
    """SQL for the comparable form of a normalised (lower-case, alphanumeric, single-spaced)
    street address ``expr``; NULL stays NULL."""
    out = expr
    by_abbrev: dict[str, list[str]] = {}
    for long, short in STREET_WORDS.items():
        by_abbrev.setdefault(short, []).append(long)
    for short, longs in sorted(by_abbrev.items()):
        out = f"regexp_replace({out}, '\\b({'|'.join(longs)})\\b', '{short}', 'g')"
    out = f"regexp_replace({out}, '\\b({'|'.join(UNIT_WORDS)})\\b', ' ', 'g')"
    return f"nullif(trim(regexp_replace({out}, ' +', ' ', 'g')), '')"


def house_number_sql(key_expr: str) -> str:
    """SQL for the house number of an address key (its leading digits), or NULL."""
    return f"nullif(regexp_extract({key_expr}, '^([0-9]+[a-z]?)\\b', 1), '')"
