"""Vectorised parsing of text columns: names, street addresses and matching forms.

Every function takes and returns Arrow arrays (``pa.Array`` of strings, nulls allowed) so
that a million rows cost a handful of RE2 passes, not a million Python calls. Each has a
scalar convenience wrapper for tests and for the rooms that parse one value at a time.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from casegraph.sources.normalise import normalise_text

# Python's str \s restricted to ASCII: space, \t \n \v \f \r and the separators \x1c-\x1f.
_ASCII_WS = r"\t\n\x0b\x0c\r \x1c-\x1f"
# Unicode whitespace seen in exports (NBSP, thin spaces, BOM) folded to a space on display.
_NONSPACE_WS = (r"\t\n\r\f\x0b\x1c-\x1f\x{0085}\x{00A0}\x{1680}\x{2000}-\x{200B}\x{2028}"
                r"\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}")
# A run of 2+ whitespace characters, or one that is not a plain space (single spaces are
# left alone: rewriting them is most of the cost on names).
_DISPLAY_WS = f"[ {_NONSPACE_WS}]{{2,}}|[{_NONSPACE_WS}]"

NAME_PARTICLES = ("de", "del", "della", "der", "den", "di", "da", "das", "do", "dos", "du",
                  "la", "las", "los", "le", "van", "von", "ter", "ten", "st", "st.", "saint",
                  "al", "el", "bin", "ibn", "ben", "bint", "abu", "mac", "y")
NAME_SUFFIXES = ("jr", "sr", "ii", "iii", "iv")
UNIT_WORDS = ("apt", "apartment", "unit", "ste", "suite", "rm", "room", "fl", "floor", "bldg",
              "building", "lot", "trlr", "trailer", "spc", "space", "dept")

_PARTICLE_RE = "|".join(p.replace(".", r"\.") for p in sorted(NAME_PARTICLES, key=len,
                                                                 reverse=True))
_SUFFIX_RE = r"(?i)[,\s]+(?:" + "|".join(NAME_SUFFIXES) + r")\.?$"
_COMMA_NAME = r"^(?P<family>[^,]+?)\s*,\s*(?P<given>[^\s,]+)(?:[\s,]+(?P<middle>.+?))?[\s,]*$"
_PLAIN_NAME = (r"^(?P<given>\S+)(?:\s+(?P<middle>.+?))??\s+"
               r"(?P<family>(?:(?i:" + _PARTICLE_RE + r")\s+)*\S+)$")
_ADDRESS = (r"^(?P<number>\d+[A-Za-z]?(?:[-/]\d+[A-Za-z]?)?\b)?[\s,]*(?P<street>.+?)"
            r"(?:[\s,]+(?P<unit>(?:(?i:" + "|".join(UNIT_WORDS) + r")\b\.?\s*#?\s*|#\s*)"
            r"[A-Za-z0-9][A-Za-z0-9\-]*))?$")


def _arr(values: pa.Array | pa.ChunkedArray | list[str | None]) -> pa.Array:
    if isinstance(values, list):
        return pa.array(values, type=pa.string())
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


def _empty_to_null(a: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(a, ""), pa.scalar(None, pa.string()), a)


def clean_display(values: pa.Array | pa.ChunkedArray | list[str | None]) -> pa.Array:
    """Display form: whitespace (including NBSP) collapsed to one space, trimmed; '' -> null."""
    a = _arr(values)
    # Only rows with a double space, a control character or non-ASCII text need the regex.
    need = pc.fill_null(pc.or_(pc.match_substring(a, "  "),
                               pc.invert(pc.ascii_is_printable(a))), False)
    if pc.any(need).as_py():
        fixed = pc.replace_substring_regex(a.filter(need), _DISPLAY_WS, " ")
        a = pc.replace_with_mask(a, need, fixed)
    a = pc.ascii_trim(a, " ")
    return _empty_to_null(a)


def normalise_array(values: pa.Array | pa.ChunkedArray | list[str | None]) -> pa.Array:
    """:func:`normalise_text` over an array: RE2 fast path for ASCII, Python for the rest.

    Gives exactly ``[normalise_text(v) for v in values]`` (tested property).
    """
    a = _arr(values)
    if len(a) == 0:
        return pa.array([], type=pa.string())
    s = pc.ascii_lower(a)
    s = pc.replace_substring_regex(s, f"[^a-z0-9{_ASCII_WS}]", " ")
    s = pc.replace_substring_regex(s, f"[{_ASCII_WS}]+", " ")
    s = _empty_to_null(pc.utf8_trim(s, " "))
    non_ascii = pc.fill_null(pc.invert(pc.string_is_ascii(a)), False)
    if pc.any(non_ascii).as_py():
        vals = a.filter(non_ascii).to_pylist()
        cache: dict[str, str | None] = {}
        out = []
        for v in vals:
            r = cache.get(v, ...)
            if r is ...:
                r = cache[v] = normalise_text(v)
            out.append(r)
        s = pc.replace_with_mask(s, non_ascii, pa.array(out, type=pa.string()))
    return s


def _group(struct: pa.Array, name: str) -> pa.Array:
    return _empty_to_null(pc.struct_field(struct, name))


def split_full_name(values: pa.Array | pa.ChunkedArray | list[str | None], *,
                    cleaned: bool = False) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(given, middle, family) from whole names.

    ``"LAST, FIRST MIDDLE"`` keeps everything before the comma as the family name (so
    ``"GARCIA LOPEZ, MARIA"`` keeps the compound surname); ``"FIRST MIDDLE LAST"`` takes
    the last word plus any particles before it (``"Juan de la Cruz"`` -> family
    ``"de la Cruz"``). Generational suffixes (Jr, Sr, II-IV) are dropped from the parts. A
    single word is a family name.
    """
    a = _arr(values) if cleaned else clean_display(values)
    a = _empty_to_null(pc.utf8_trim(pc.replace_substring_regex(a, _SUFFIX_RE, ""), " ,"))
    n = len(a)
    null = pa.nulls(n, pa.string())
    has_comma = pc.fill_null(pc.match_substring(a, ","), False)
    comma = pc.extract_regex(pc.if_else(has_comma, a, pa.scalar(None, pa.string())), _COMMA_NAME)
    plain = pc.extract_regex(pc.if_else(has_comma, pa.scalar(None, pa.string()), a), _PLAIN_NAME)
    given = pc.coalesce(_group(comma, "given"), _group(plain, "given"))
    middle = pc.coalesce(_group(comma, "middle"), _group(plain, "middle"))
    family = pc.coalesce(_group(comma, "family"), _group(plain, "family"))
    # No pattern matched (one word, or a lone comma form like "SMITH,"): a family name.
    unmatched = pc.and_(pc.is_valid(a), pc.is_null(family))
    fallback = pc.utf8_trim(pc.replace_substring(a, ",", " "), " ")
    family = pc.if_else(unmatched, _empty_to_null(clean_display(fallback)), family)
    given = pc.if_else(unmatched, null, given)
    middle = pc.if_else(unmatched, null, middle)
    return given, middle, family


_UNIT_START = r"(?i)^(?:#|(?:" + "|".join(UNIT_WORDS) + r")\b)"
_ADDRESS_TAIL = (r"^(?P<line>.*?\S)\s*,\s*(?P<city>[^,]*[A-Za-z][^,]*?)\s*,?\s+"
                 r"(?P<state>[A-Za-z]{2})\.?(?:\s+(?P<zip>\d{5}(?:-\d{4})?))?\s*$")


def split_address_tail(values: pa.Array | pa.ChunkedArray | list[str | None]
                       ) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """(street line, locality, region, postcode) of one-line US addresses.

    ``"1200 Main St Apt 4, Houston, TX 77002"`` -> ``"1200 Main St Apt 4"``, ``"Houston"``,
    ``"TX"``, ``"77002"``. Lines without a ``, City, ST [ZIP]`` tail come back unchanged
    with null parts.
    """
    a = _arr(values)
    m = pc.extract_regex(a, _ADDRESS_TAIL)
    city = _group(m, "city")
    # "100 Main St, Suite AB" is a unit, not a city and state.
    unit_like = pc.fill_null(pc.match_substring_regex(city, _UNIT_START), False)
    m = pc.if_else(unit_like, pa.scalar(None, m.type), m)
    line = pc.coalesce(_group(m, "line"), a)
    return line, _group(m, "city"), pc.utf8_upper(_group(m, "state")), _group(m, "zip")


def split_street_address(values: pa.Array | pa.ChunkedArray | list[str | None], *,
                         cleaned: bool = False) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(street_number, street, unit) from ``"123 Main St Apt 4"``-style street lines."""
    a = _arr(values) if cleaned else clean_display(values)
    m = pc.extract_regex(a, _ADDRESS)
    number, street, unit = _group(m, "number"), _group(m, "street"), _group(m, "unit")
    street = _empty_to_null(pc.utf8_trim(street, " ,"))
    return number, street, unit


def concat_ws(*parts: pa.Array) -> pa.Array:
    """Space-join non-null parts of each row; null when every part is null."""
    n = len(parts[0])
    out = pa.nulls(n, pa.string())
    for p in parts:
        p = p.cast(pa.string())
        both = pc.and_(pc.is_valid(out), pc.is_valid(p))
        out = pc.if_else(both, pc.binary_join_element_wise(out, p, " "), pc.coalesce(out, p))
    return out


# ---- scalar conveniences -------------------------------------------------------------------
def parse_full_name(value: str | None) -> tuple[str | None, str | None, str | None]:
    """(given, middle, family) of one name."""
    g, m, f = split_full_name([value])
    return g[0].as_py(), m[0].as_py(), f[0].as_py()


def parse_street_address(value: str | None) -> tuple[str | None, str | None, str | None]:
    """(street_number, street, unit) of one street line."""
    n, s, u = split_street_address([value])
    return n[0].as_py(), s[0].as_py(), u[0].as_py()
