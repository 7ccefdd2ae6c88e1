"""How record systems distort identity: spelling variants, typos, swaps, shortened
surnames, wrong or placeholder birth dates, mistyped and missing identifiers.

Every function takes arrays of true values for the records of one source and returns
the values that source wrote, touching only a random subset (Python work is paid only
on that subset; the rest stays vectorised).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from casegraph.synth.names import VARIANTS

KEYBOARD = {
    "a": "qwsz", "b": "vghn", "c": "xdfv", "d": "serfcx", "e": "wsdr", "f": "drtgvc",
    "g": "ftyhbv", "h": "gyujnb", "i": "ujko", "j": "huikmn", "k": "jiolm", "l": "kop",
    "m": "njk", "n": "bhjm", "o": "iklp", "p": "ol", "q": "wa", "r": "edft", "s": "awedxz",
    "t": "rfgy", "u": "yhji", "v": "cfgb", "w": "qase", "x": "zsdc", "y": "tghu", "z": "asx",
}


@dataclass(frozen=True)
class NameNoise:
    """Rates of each distortion a source applies to names."""

    variant: float = 0.12      # transliteration / accent-free / clerical spelling
    typo: float = 0.03
    swap: float = 0.02         # given and family exchanged (x4 for family-first cultures)
    shorten: float = 0.35      # compound surname cut to its first part
    hyphenate: float = 0.05    # compound surname hyphenated
    drop_middle: float = 0.4
    ascii_only: bool = False   # system cannot store accents


@dataclass(frozen=True)
class DateNoise:
    swap_day_month: float = 0.02
    placeholder: float = 0.01   # unknown birth date written as 1 January of the year
    year_typo: float = 0.01
    missing: float = 0.01


@lru_cache(maxsize=1 << 16)
def strip_accents(s: str) -> str:
    from casegraph.sources.normalise import fold_accents

    return fold_accents(s)


def _typo(s: str, r: float, r2: float) -> str:
    if len(s) < 3:
        return s
    i = 1 + int(r * (len(s) - 2))
    op = int(r2 * 4)
    c = s[i]
    if op == 0:  # keyboard neighbour substitution
        near = KEYBOARD.get(c.lower())
        if not near:
            return s
        sub = near[int(r2 * 97) % len(near)]
        sub = sub.upper() if c.isupper() else sub
        return s[:i] + sub + s[i + 1:]
    if op == 1:  # deletion
        return s[:i] + s[i + 1:]
    if op == 2:  # doubled letter
        return s[:i] + c + s[i:]
    return s[:i - 1] + s[i] + s[i - 1] + s[i + 1:]  # transposition


def _variant(s: str, r: float) -> str:
    v = VARIANTS.get(s)
    if v:
        return v[int(r * len(v))]
    folded = strip_accents(s)
    return folded


def apply_name_noise(rng: np.random.Generator, given: np.ndarray, middle: np.ndarray,
                     family: np.ndarray, family_first: np.ndarray, hispanic: np.ndarray,
                     noise: NameNoise) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """Noisy (given, middle, family) for records; also counts of each distortion applied."""
    n = len(given)
    given, middle, family = given.copy(), middle.copy(), family.copy()
    stats: dict[str, int] = {}
    # compound surnames
    compound = hispanic & (np.char.find(family.astype(str), " ") > 0) if n else np.zeros(0, bool)
    r = rng.random(n)
    short = compound & (r < noise.shorten)
    hyph = compound & (r >= noise.shorten) & (r < noise.shorten + noise.hyphenate)
    family[short] = [x.split(" ")[0] for x in family[short]]
    family[hyph] = [x.replace(" ", "-") for x in family[hyph]]
    stats["compound_shortened"] = int(short.sum())
    stats["compound_hyphenated"] = int(hyph.sum())
    # variants
    for arr, label in ((given, "given_variant"), (family, "family_variant")):
        m = np.flatnonzero(rng.random(n) < noise.variant)
        rr = rng.random(len(m))
        before = arr[m].copy()
        arr[m] = [_variant(arr[i], x) for i, x in zip(m, rr)]
        stats[label] = int((arr[m] != before).sum())
    # typos
    m = np.flatnonzero(rng.random(n) < noise.typo)
    r1, r2, which = rng.random(len(m)), rng.random(len(m)), rng.random(len(m)) < 0.5
    for j, i in enumerate(m):
        if which[j]:
            given[i] = _typo(given[i], r1[j], r2[j])
        else:
            family[i] = _typo(family[i], r1[j], r2[j])
    stats["typo"] = len(m)
    # middle names often dropped
    drop = rng.random(n) < noise.drop_middle
    middle[drop] = ""
    # order swaps
    p = np.where(family_first, noise.swap * 4, noise.swap)
    sw = rng.random(n) < p
    given[sw], family[sw] = family[sw], given[sw].copy()
    stats["name_order_swap"] = int(sw.sum())
    if noise.ascii_only:
        uniq = {x: strip_accents(x) for x in set(given) | set(family) | set(middle)}
        given = np.array([uniq[x] for x in given], dtype=object)
        family = np.array([uniq[x] for x in family], dtype=object)
        middle = np.array([uniq[x] for x in middle], dtype=object)
    return given, middle, family, stats


def apply_date_noise(rng: np.random.Generator, dates: np.ndarray, noise: DateNoise
                     ) -> tuple[np.ndarray, dict]:
    """Noisy birth dates (datetime64[D], NaT = missing)."""
    n = len(dates)
    out = dates.copy()
    y = dates.astype("datetime64[Y]")
    m_start = dates.astype("datetime64[M]")
    month = (m_start - y.astype("datetime64[M]")).astype(np.int64) + 1
    day = (dates - m_start.astype("datetime64[D]")).astype(np.int64) + 1
    r = rng.random(n)
    c = np.cumsum([noise.swap_day_month, noise.placeholder, noise.year_typo, noise.missing])
    swap = (r < c[0]) & (day <= 12) & (day != month)
    out[swap] = (y[swap].astype("datetime64[M]") + (day[swap] - 1).astype("timedelta64[M]")
                 ).astype("datetime64[D]") + (month[swap] - 1).astype("timedelta64[D]")
    ph = (r >= c[0]) & (r < c[1])
    out[ph] = y[ph].astype("datetime64[D]")
    yt = (r >= c[1]) & (r < c[2])
    sign = np.where(rng.random(n) < 0.5, -1, 1)
    ny = (y + sign.astype("timedelta64[Y]"))
    safe_day = np.where((month == 2) & (day == 29), 28, day)
    out[yt] = (ny[yt].astype("datetime64[M]") + (month[yt] - 1).astype("timedelta64[M]")
               ).astype("datetime64[D]") + (safe_day[yt] - 1).astype("timedelta64[D]")
    miss = (r >= c[2]) & (r < c[3])
    out[miss] = np.datetime64("NaT")
    return out, {"dob_day_month_swap": int(swap.sum()), "dob_placeholder": int(ph.sum()),
                 "dob_year_typo": int(yt.sum()), "dob_missing": int(miss.sum())}


def apply_anumber_noise(rng: np.random.Generator, a: np.ndarray, missing: float,
                        typo: float = 0.012, transpose: float = 0.005
                        ) -> tuple[np.ndarray, np.ndarray, dict]:
    """(digits as int64, present mask, stats): one-digit typos, transpositions, missing."""
    n = len(a)
    out = a.copy()
    r = rng.random(n)
    t1 = r < typo
    pos = rng.integers(0, 7, n)   # one of the last 7 digits (stays 8-9 digits long)
    place = 10 ** pos.astype(np.int64)
    digit = (out // place) % 10
    new = (digit + rng.integers(1, 10, n)) % 10
    out[t1] = out[t1] + (new[t1] - digit[t1]) * place[t1]
    t2 = (r >= typo) & (r < typo + transpose)
    p2 = rng.integers(0, 6, n)   # swaps digits p2, p2+1 of the last 7 (length kept)
    pl = 10 ** p2.astype(np.int64)
    d0 = (out // pl) % 10
    d1 = (out // (pl * 10)) % 10
    t2 &= d0 != d1
    out[t2] = out[t2] + (d1[t2] - d0[t2]) * pl[t2] + (d0[t2] - d1[t2]) * pl[t2] * 10
    present = rng.random(n) >= missing
    return out, present, {"a_number_typo": int(t1.sum()), "a_number_transposed": int(t2.sum()),
                          "a_number_missing": int((~present).sum())}


def format_anumber(rng: np.random.Generator, a: np.ndarray, present: np.ndarray,
                   style: str) -> np.ndarray:
    """A-numbers as a system writes them: 'A012345678', '012-345-678', '12345678', mixed."""
    from casegraph.synth.story import zpad

    s9 = zpad(a, 9)
    if style == "plain9":
        out = s9
    elif style == "A9":
        out = "A" + s9
    elif style == "dashed":
        out = np.array([f"{x[:3]}-{x[3:6]}-{x[6:]}" for x in s9], dtype=object)
    elif style == "short":  # leading zeros dropped (8 digits for most)
        out = zpad(a)
    else:  # mixed clerical styles
        r = rng.random(len(a))
        out = np.where(r < 0.5, "A" + s9, np.where(r < 0.8, s9, zpad(a)))
        sp = r > 0.93
        out[sp] = [f"A# {x[:3]} {x[3:6]} {x[6:]}" for x in s9[sp]]
    return np.where(present, out, None)


def to_latin1(text: str) -> bytes:
    """Encode as Latin-1 the way an old export does: letters it lacks lose their accents."""
    def fold(ch: str) -> str:
        try:
            ch.encode("latin-1")
            return ch
        except UnicodeEncodeError:
            base = "".join(c for c in unicodedata.normalize("NFKD", ch)
                           if not unicodedata.combining(c))
            try:
                base.encode("latin-1")
                return base or "?"
            except UnicodeEncodeError:
                return strip_accents(ch) or "?"
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        pass
    chars = {c for c in set(text) if ord(c) > 255}
    table = {ord(c): fold(c) for c in chars}
    return text.translate(table).encode("latin-1", errors="replace")
