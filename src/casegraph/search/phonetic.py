"""Phonetic and transliteration keys of name tokens.

Two keys per token, both indexed in one field (``name_phon``) with a prefix so they
never collide:

* ``m:`` Metaphone (jellyfish, Rust): Mohammed / Muhammad / Mohamed -> ``MHMT``,
  Yusuf / Youssef -> ``YSF``, Katherine / Catherine -> ``K0RN``.
* ``t:`` the resolution room's transliteration key (consonant skeleton after
  scheme-specific rewrites), so that search and identity resolution agree on which
  spellings are "the same name".

Accents never reach these functions: tokens are folded by
:func:`casegraph.sources.normalise.normalise_text` first (Nguyễn -> nguyen).
"""

from __future__ import annotations

from functools import lru_cache

import jellyfish

try:  # the resolution room's key; fall back to metaphone alone if it moves
    from casegraph.resolve.names import translit_token as _translit
except Exception:  # pragma: no cover - depends on another room's module
    _translit = None  # type: ignore[assignment]

#: Tokens shorter than this get no phonetic key (too many collisions to be useful).
MIN_PHONETIC_LEN = 3


@lru_cache(maxsize=500_000)
def phonetic_keys(token: str) -> tuple[str, ...]:
    """Phonetic keys of one normalised (lower-case, accent-folded) name token."""
    if len(token) < MIN_PHONETIC_LEN or not token.isalpha():
        return ()
    keys: list[str] = []
    try:
        m = jellyfish.metaphone(token)
    except Exception:  # pragma: no cover - jellyfish rejects some code points
        m = ""
    if len(m) >= 2:
        keys.append("m:" + m.lower())
    if _translit is not None:
        try:
            t = _translit(token)
        except Exception:  # pragma: no cover
            t = ""
        if len(t) >= 2:
            keys.append("t:" + t)
    return tuple(keys)


def fuzzy_distance(token: str) -> int:
    """Edit distance allowed for a name token of this length (0 for very short tokens)."""
    n = len(token)
    if n <= 3:
        return 0
    if n <= 9:
        return 1
    return 2
