"""Matching keys for names written in many scripts and spellings.

Names in enforcement records are transliterated by many hands: Mohammed / Muhammad /
Mohamed, Youssef / Yusuf / Yousef, Nguyen / Nguyễn, Hussein / Husain. Edit distance
counts these as different names; a *transliteration key* folds them together by
keeping the consonant skeleton after normalising the spellings that vary between
transliteration schemes. The key is a blocking and comparison aid, never a proof: the
model learns how much agreement on it is worth.

A skeleton alone also folds *different* names, and the twins' rule only fires when the
keys differ, so the key keeps three vowel marks that tell names apart (and that
transliterations of one name share):

* a feminine final -a (-a, -ia, -iya, -ya, -ah): Oleksandr / Oleksandra, Ivan / Ivana,
  Yevhen / Yevheniia, Daniel / Daniela, Antonio / Antonia (brother and sister twins);
* an ai / ay / ei / ey diphthong inside the name: Husayn / Hussein / Husain vs Hasan;
* Somali and Arabic Mahmud spellings (Mohamud, Mahamud, Mahmoud) are one name, not
  Mohamed.
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


#: Mahmud as written in Somali and Arabic records (Mohamud, Mahamud, Maxamuud, Mahmoud):
#: its skeleton is Mohamed's, but it is a different name
_MAHMUD = re.compile(r"^m[aou](?:h|kh|x)?a?m+(?:u|o|ou|oo|uu)d$")
_UK_H = re.compile(r"(?<=[lrv])h(?=[aeiouy])")
#: a diphthong inside the name (Husayn, Hussein, Hüseyin, and the frequent Hussien),
#: absent from Hasan
_DIPHTHONG = re.compile(r"[ae][iy](?=[a-z])|ie(?=n$)")


def _marks(t: str) -> str:
    """Vowel marks of a rewritten token that tell names with one skeleton apart: ``y``
    for an inner ai/ay/ei/ey diphthong, then ``a`` for a feminine final -a (Arabic -ah
    counts). Neither letter can otherwise end a skeleton (its vowels are dropped)."""
    if t.endswith("ah"):
        t = t[:-1]
    return ("y" if _DIPHTHONG.search(t) else "") + ("a" if t.endswith("a") else "")


@lru_cache(maxsize=200_000)
def translit_token(token: str) -> str:
    """Transliteration key of one name token.

    Examples:
        >>> translit_token("mohammed") == translit_token("muhammad") == translit_token("mohamed")
        True
        >>> translit_token("youssef") == translit_token("yusuf")
        True
        >>> translit_token("hussein") == translit_token("husayn") == translit_token("husain")
        True
        >>> translit_token("hasan") == translit_token("hassan") != translit_token("hussein")
        True
        >>> translit_token("oleksandr") == translit_token("oleksandra")
        False
        >>> translit_token("yevhen") == translit_token("evgeny") != translit_token("yevheniia")
        True
        >>> translit_token("mohamud") == translit_token("mahmoud") != translit_token("mohamed")
        True
    """
    t = _NON_ALPHA.sub("", token.lower())
    if not t:
        return ""
    if _MAHMUD.match(t):
        t = "mahmud"
    for a, b in _REWRITES:
        t = t.replace(a, b)
    # Ukrainian h is Russian g after l, r, v (Olha/Olga, Serhiy/Sergey, Yevhen/Evgeny);
    # an initial ye- is e- in other schemes (Yevgeny/Evgeny, Yelena/Elena)
    t = _UK_H.sub("g", t)
    if t.startswith("ye") and len(t) > 3:
        t = t[1:]
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
    if len(key) > 1:
        key = key[:-1] + {"d": "t", "b": "p"}.get(key[-1], key[-1])
    return key + _marks(t)


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


# --- given-name cognates ---------------------------------------------------------------
#
# One person's given name changes with the language of the document: a Ukrainian passport
# says Mykola, a Russian-language document Nikolai, a US form Nicholas; a Somali record
# Maxamed, an Egyptian one Mohamed. No spelling key folds these (they are different words),
# so a curated table lists the forms of each name (``data/given_name_cognates.csv``): one
# group per name *and gender* (Oleksandr and Oleksandra are different groups), and no form
# that is a different, co-existing name in a large community (Spanish Ivan and Juan,
# Turkish Mehmet and Muhammed). A shared group is moderate evidence, weighed by the model
# below the spelling levels; it is never proof.

COGNATES_FILE = "given_name_cognates.csv"

#: the longest run of adjacent name tokens looked up as one form ("abd al rahman")
_MAX_SPAN = 3


def _form_key(value: str) -> str | None:
    """A form as the table is keyed: the record-name normalisation, spaces removed (so
    that "Abdul Rahman", "Abd al-Rahman" and "Natal'ya" match their one-word spellings)."""
    n = norm(value)
    return n.replace(" ", "") if n else None


@lru_cache(maxsize=1)
def cognate_index() -> dict[str, tuple[str, ...]]:
    """Form key -> the cognate groups it belongs to, from the bundled table."""
    import csv
    from importlib import resources

    text = (resources.files("casegraph.resolve") / "data" / COGNATES_FILE
            ).read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines()
                          if line.strip() and not line.startswith("#"))
    index: dict[str, set[str]] = {}
    for row in rows:
        key = _form_key(row["form"])
        if key:
            index.setdefault(key, set()).add(row["group"].strip())
    return {k: tuple(sorted(v)) for k, v in index.items()}


@lru_cache(maxsize=200_000)
def _cognates_of(norm_name: str) -> tuple[str, ...]:
    index = cognate_index()
    toks = norm_name.split()
    found: set[str] = set()
    for i in range(len(toks)):
        for j in range(i + 1, min(len(toks), i + _MAX_SPAN) + 1):
            found.update(index.get("".join(toks[i:j]), ()))
    return tuple(sorted(found))


def cognate_groups(norm_name: str | None) -> list[str] | None:
    """The cognate groups of a (normalised) given name's tokens, or None when it has none.

    Examples:
        >>> cognate_groups(norm("Mykola")) == cognate_groups(norm("Nikolai"))
        True
        >>> cognate_groups(norm("Abdul Rahman")) == cognate_groups(norm("Abdirahman"))
        True
        >>> cognate_groups(norm("John")) is None
        True
    """
    if not norm_name:
        return None
    return list(_cognates_of(norm_name)) or None
