"""Matching keys for names written in many scripts and spellings.

Names in enforcement records are transliterated by many hands: Mohammed / Muhammad /
Mohamed, Youssef / Yusuf / Yousef, Nguyen / Nguyễn, Hussein / Husain. Edit distance
counts these as different names; a *transliteration key* folds them together by
keeping the consonant skeleton after normalising the spellings that vary between
transliteration schemes. The key is a blocking and comparison aid, never a proof: the
model learns how much agreement on it is worth.
"""

from __future__ import annotations

import re
from functools import lru_cache

import jellyfish

from casegraph.sources.normalise import normalise_text

# Ordered rewrites: multi-letter spellings that vary between transliteration schemes.
_REWRITES: tuple[tuple[str, str], ...] = (
    ("sch", "s"), ("tch", "c"), ("dzh", "j"), ("zh", "j"), ("dj", "j"), ("gu", "g"),
    ("ph", "f"), ("kh", "h"), ("gh", "g"), ("th", "t"), ("dh", "d"), ("sh", "s"),
    ("ch", "c"), ("ck", "k"), ("qu", "k"), ("q", "k"), ("x", "ks"), ("w", "v"),
    ("z", "s"), ("c", "k"), ("j", "y"), ("ou", "u"), ("ee", "i"), ("oo", "u"),
)
_VOWELS = set("aeiouy")
_NON_ALPHA = re.compile(r"[^a-z ]")

#: Particles that are part of a family name but carry no identity on their own.
PARTICLES = frozenset({"al", "el", "bin", "ben", "ibn", "abu", "de", "del", "da", "di", "la",
                       "le", "van", "von", "der", "den", "dos", "das", "do", "y", "e", "st"})


@lru_cache(maxsize=200_000)
def translit_token(token: str) -> str:
    """Transliteration key of one name token.

    Examples:
        >>> translit_token("mohammed") == translit_token("muhammad") == translit_token("mohamed")
        True
        >>> translit_token("youssef") == translit_token("yusuf")
        True
    """
    t = _NON_ALPHA.sub("", token.lower())
    if not t:
        return ""
    for a, b in _REWRITES:
        t = t.replace(a, b)
    first = t[0]
    # keep consonants; keep an h only between vowels (Mohamed), drop it elsewhere (John)
    rest = "".join(
        ch for i, ch in enumerate(t[1:], start=1)
        if ch not in _VOWELS and (ch != "h" or (t[i - 1] in _VOWELS and i + 1 < len(t)
                                                  and t[i + 1] in _VOWELS)))
    out = [("a" if first in _VOWELS and first != "y" else first)]
    for ch in rest:
        if ch != out[-1]:
            out.append(ch)
    key = "".join(out)
    if len(key) < MIN_SKELETON:
        # a short name's consonants do not identify it (Thanh / Tin / Tan / Tuan are all
        # "tn", Linh / Lan "ln", Li / Ly "l"): keep its vowels, spelling variants folded
        return _squeeze(t)
    # a final d/t and b/p are voiced/unvoiced variants across schemes (Mehmed/Mehmet)
    return key[:-1] + {"d": "t", "b": "p"}.get(key[-1], key[-1]) if len(key) > 1 else key


#: a consonant skeleton shorter than this is too common to stand for one name
MIN_SKELETON = 3


def _squeeze(t: str) -> str:
    """A rewritten token with doubled letters collapsed (Thanh -> tanh, Lee -> le)."""
    out = [t[0]]
    for ch in t[1:]:
        if ch != out[-1]:
            out.append(ch)
    return "".join(out)


def tokens(norm: str | None) -> list[str]:
    """Tokens of a normalised name, without particles (unless nothing else is left)."""
    if not norm:
        return []
    toks = [t for t in norm.split() if t]
    kept = [t for t in toks if t not in PARTICLES]
    return kept or toks


def name_key(norm: str | None) -> str | None:
    """Transliteration key of a whole (normalised) name: token keys joined by spaces."""
    toks = tokens(norm)
    if not toks:
        return None
    keys = [translit_token(t) for t in toks]
    return " ".join(k for k in keys if k) or None


def first_token_key(norm: str | None) -> str | None:
    toks = tokens(norm)
    return translit_token(toks[0]) or None if toks else None


def token_keys(norm: str | None) -> list[str]:
    return sorted({translit_token(t) for t in tokens(norm) if translit_token(t)})


@lru_cache(maxsize=200_000)
def phonetic(norm: str | None) -> str | None:
    """Metaphone of the first meaningful token (a second, independent phonetic opinion)."""
    toks = tokens(norm)
    if not toks:
        return None
    return jellyfish.metaphone(toks[0]) or None


def split_full_name(full: str | None) -> tuple[str | None, str | None]:
    """(given, family) from a whole name as written.

    "GARCIA LOPEZ, MARIA" -> ("MARIA", "GARCIA LOPEZ"); "Maria Garcia" -> ("Maria", "Garcia").
    """
    if not full or not full.strip():
        return None, None
    s = full.strip()
    if "," in s:
        fam, _, giv = s.partition(",")
        return (giv.strip() or None), (fam.strip() or None)
    parts = s.split()
    if len(parts) == 1:
        return None, parts[0]
    return " ".join(parts[:-1]), parts[-1]


def norm(value: str | None) -> str | None:
    return normalise_text(value)
