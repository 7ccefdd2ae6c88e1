"""Matching forms of values: lower case, accents folded, punctuation removed, spaces collapsed.

Kept separate from parsing so that every room (ingest, resolve, search) folds text the
same way: a name typed into search must fold exactly like the name stored at ingest.
"""

from __future__ import annotations

import re
import unicodedata

_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_SPACE = re.compile(r"\s+")
# Letters that NFKD does not decompose into base + mark.
_SPECIAL = str.maketrans({"ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe",
                          "Œ": "OE", "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "ı": "i",
                          "þ": "th", "ð": "d", "ħ": "h"})


def fold_accents(text: str) -> str:
    """'Nguyễn' -> 'Nguyen', 'Łódź' -> 'Lodz'."""
    text = text.translate(_SPECIAL)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalise_text(value: str | None) -> str | None:
    """The matching form of a text value, or None when nothing is left."""
    if value is None:
        return None
    s = fold_accents(str(value)).lower()
    s = s.replace("_", " ")
    s = _PUNCT.sub(" ", s)
    s = _SPACE.sub(" ", s).strip()
    return s or None
