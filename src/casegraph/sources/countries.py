"""Country codes: any of alpha-2, alpha-3 or a common English name -> ISO 3166-1 alpha-2.

The table (``countries.csv``) ships with the package: alpha-2 codes and names from the
IANA tz database's ``iso3166.tab``, alpha-3 codes from ISO 3166-1.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

from casegraph.sources.normalise import normalise_text

_ALIASES = {
    "united states of america": "US", "usa": "US", "u s a": "US", "u s": "US", "america": "US",
    "united kingdom": "GB", "uk": "GB", "great britain": "GB", "england": "GB",
    "scotland": "GB", "wales": "GB", "northern ireland": "GB",
    "south korea": "KR", "republic of korea": "KR", "north korea": "KP",
    "russian federation": "RU", "viet nam": "VN", "czech republic": "CZ", "czechia": "CZ",
    "ivory coast": "CI", "cote d ivoire": "CI", "burma": "MM", "holland": "NL",
    "the netherlands": "NL", "dr congo": "CD", "democratic republic of the congo": "CD",
    "republic of the congo": "CG", "congo": "CG", "the gambia": "GM", "gambia": "GM",
    "the bahamas": "BS", "bahamas": "BS", "macedonia": "MK", "north macedonia": "MK",
    "eswatini": "SZ", "swaziland": "SZ", "cape verde": "CV", "cabo verde": "CV",
    "east timor": "TL", "timor leste": "TL", "vatican": "VA", "holy see": "VA",
    "laos": "LA", "syrian arab republic": "SY", "iran islamic republic of": "IR",
    "bolivia plurinational state of": "BO", "venezuela bolivarian republic of": "VE",
    "tanzania united republic of": "TZ", "moldova republic of": "MD", "palestine": "PS",
    "state of palestine": "PS", "taiwan": "TW", "hong kong": "HK", "macau": "MO", "macao": "MO",
    "kosovo": "XK", "xk": "XK", "xkx": "XK", "unk": None, "unknown": None, "xx": None,
    "zz": None, "xxx": None,
    # demonyms, as nationality is often recorded
    "mexican": "MX", "guatemalan": "GT", "honduran": "HN", "salvadoran": "SV",
    "salvadorean": "SV", "nicaraguan": "NI", "costa rican": "CR", "panamanian": "PA",
    "cuban": "CU", "haitian": "HT", "dominican": "DO", "jamaican": "JM",
    "venezuelan": "VE", "colombian": "CO", "ecuadorian": "EC", "ecuadorean": "EC",
    "peruvian": "PE", "bolivian": "BO", "chilean": "CL", "argentine": "AR",
    "argentinian": "AR", "brazilian": "BR", "uruguayan": "UY", "paraguayan": "PY",
    "canadian": "CA", "american": "US", "chinese": "CN", "indian": "IN", "pakistani": "PK",
    "bangladeshi": "BD", "nepali": "NP", "nepalese": "NP", "filipino": "PH",
    "vietnamese": "VN", "korean": "KR", "south korean": "KR", "japanese": "JP",
    "indonesian": "ID", "thai": "TH", "afghan": "AF", "iranian": "IR", "iraqi": "IQ",
    "syrian": "SY", "lebanese": "LB", "jordanian": "JO", "egyptian": "EG",
    "yemeni": "YE", "saudi": "SA", "turkish": "TR", "russian": "RU", "ukrainian": "UA",
    "romanian": "RO", "moldovan": "MD", "georgian": "GE", "armenian": "AM",
    "uzbek": "UZ", "kazakh": "KZ", "kyrgyz": "KG", "tajik": "TJ", "polish": "PL",
    "albanian": "AL", "nigerian": "NG", "ghanaian": "GH", "senegalese": "SN",
    "mauritanian": "MR", "malian": "ML", "guinean": "GN", "cameroonian": "CM",
    "congolese": "CD", "angolan": "AO", "ethiopian": "ET", "eritrean": "ER",
    "somali": "SO", "sudanese": "SD", "kenyan": "KE", "ugandan": "UG",
    "british": "GB", "irish": "IE", "french": "FR", "german": "DE", "spanish": "ES",
    "italian": "IT", "portuguese": "PT", "dutch": "NL", "trinidadian": "TT",
    "guyanese": "GY", "belizean": "BZ", "sri lankan": "LK", "burmese": "MM",
    "cambodian": "KH", "laotian": "LA", "mongolian": "MN", "israeli": "IL",
    "palestinian": "PS", "moroccan": "MA", "algerian": "DZ", "tunisian": "TN",
    "libyan": "LY",
}


@functools.cache
def country_lookup() -> dict[str, str | None]:
    """normalised key -> alpha-2 (None: a placeholder meaning 'unknown')."""
    out: dict[str, str | None] = {}
    path = Path(__file__).with_name("countries.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            a2 = row["alpha2"]
            for key in (a2, row["alpha3"], row["name"], row["name"].split(" (")[0]):
                k = normalise_text(key)
                if k:
                    out.setdefault(k, a2)
            if "(" in row["name"]:  # "Korea (South)" -> "south korea"
                base, extra = row["name"].rstrip(")").split(" (", 1)
                k = normalise_text(f"{extra} {base}")
                if k:
                    out.setdefault(k, a2)
    for k, v in _ALIASES.items():
        out[normalise_text(k) or k] = v
    return out


def to_alpha2(value: str | None) -> str | None:
    """'MEX', 'Mexico', 'mx' -> 'MX'; unknown -> None."""
    k = normalise_text(value)
    return country_lookup().get(k) if k else None
