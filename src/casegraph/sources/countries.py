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
    # official long forms ("Korea, Republic of"), abbreviations
    "korea republic of": "KR", "rep of korea": "KR", "rok": "KR", "dprk": "KP",
    "korea democratic people s republic of": "KP", "prc": "CN",
    "people s republic of china": "CN", "drc": "CD", "congo democratic republic of the": "CD",
    "congo kinshasa": "CD", "congo brazzaville": "CG", "dominican rep": "DO",
    "uae": "AE", "ksa": "SA", "lao pdr": "LA", "russia": "RU", "micronesia": "FM",
    "turkiye": "TR", "salvador": "SV",
}

#: Country names as agencies abroad and consulates write them (Spanish, French, Portuguese,
#: German, Haitian Creole, Arabic transliterations and the countries' own names). A name
#: that is an English name of another country is never listed here.
_ENDONYMS = {
    # Spanish
    "mejico": "MX", "estados unidos": "US", "eeuu": "US", "ee uu": "US",
    "estados unidos de america": "US", "estados unidos mexicanos": "MX",
    "espana": "ES", "alemania": "DE", "francia": "FR", "italia": "IT", "inglaterra": "GB",
    "reino unido": "GB", "paises bajos": "NL", "belgica": "BE", "suiza": "CH", "suecia": "SE",
    "rusia": "RU", "ucrania": "UA", "polonia": "PL", "rumania": "RO", "turquia": "TR",
    "republica dominicana": "DO", "rep dominicana": "DO", "haiti": "HT", "peru": "PE",
    "brasil": "BR", "panama": "PA", "canada": "CA", "belice": "BZ", "jamaica": "JM",
    "trinidad y tobago": "TT", "guayana": "GY", "surinam": "SR", "marruecos": "MA",
    "argelia": "DZ", "egipto": "EG", "siria": "SY", "libano": "LB", "irak": "IQ",
    "iran": "IR", "afganistan": "AF", "pakistan": "PK", "bangladesh": "BD",
    "filipinas": "PH", "japon": "JP", "corea del sur": "KR", "corea del norte": "KP",
    "china": "CN", "tailandia": "TH", "camboya": "KH", "etiopia": "ET", "somalia": "SO",
    "sudafrica": "ZA", "nigeria": "NG", "senegal": "SN", "camerun": "CM",
    "republica checa": "CZ", "chequia": "CZ", "hungria": "HU", "grecia": "GR",
    # French
    "mexique": "MX", "etats unis": "US", "etats unis d amerique": "US", "espagne": "ES",
    "allemagne": "DE", "italie": "IT", "angleterre": "GB", "royaume uni": "GB",
    "pays bas": "NL", "belgique": "BE", "suisse": "CH", "suede": "SE", "russie": "RU",
    "pologne": "PL", "roumanie": "RO", "turquie": "TR", "republique dominicaine": "DO",
    "bresil": "BR", "perou": "PE", "colombie": "CO", "equateur": "EC", "bolivie": "BO",
    "venezuela": "VE", "chili": "CL", "argentine": "AR", "cuba": "CU", "jamaique": "JM",
    "guyane": "GY", "maroc": "MA", "algerie": "DZ", "tunisie": "TN", "libye": "LY",
    "egypte": "EG", "syrie": "SY", "liban": "LB", "jordanie": "JO",
    "afghanistan": "AF", "chine": "CN", "coree du sud": "KR",
    "coree du nord": "KP", "inde": "IN", "ethiopie": "ET", "erythree": "ER", "somalie": "SO",
    "soudan": "SD", "tchad": "TD", "cameroun": "CM", "republique democratique du congo": "CD",
    "rdc": "CD", "cote divoire": "CI", "guinee": "GN", "mauritanie": "MR",
    "hongrie": "HU", "tchequie": "CZ", "republique tcheque": "CZ", "grece": "GR",
    # Haitian Creole, Portuguese, German, own names
    "ayiti": "HT", "dayiti": "HT", "etazini": "US", "meksik": "MX",
    "estados unidos da america": "US", "mexico": "MX", "espanha": "ES",
    "alemanha": "DE", "franca": "FR", "cabo verde": "CV", "mocambique": "MZ",
    "guine bissau": "GW", "deutschland": "DE", "osterreich": "AT", "schweiz": "CH",
    "vereinigte staaten": "US", "turkei": "TR", "russland": "RU", "polen": "PL",
    "tschechien": "CZ", "ungarn": "HU", "rumanien": "RO", "griechenland": "GR",
    "spanien": "ES", "italien": "IT", "frankreich": "FR", "agypten": "EG", "syrien": "SY",
    "polska": "PL", "cesko": "CZ", "ceska republika": "CZ", "slovensko": "SK",
    "magyarorszag": "HU", "romania": "RO", "moldova": "MD", "ukraina": "UA",
    "rossiya": "RU", "rossiia": "RU", "belarus": "BY", "srbija": "RS", "hrvatska": "HR",
    "shqiperia": "AL", "sakartvelo": "GE", "hayastan": "AM", "turkiye cumhuriyeti": "TR",
    "ellada": "GR", "nederland": "NL", "belgie": "BE", "sverige": "SE", "norge": "NO",
    "danmark": "DK", "suomi": "FI", "eire": "IE", "viet nam": "VN", "zhongguo": "CN",
    "nihon": "JP", "nippon": "JP", "hanguk": "KR", "bharat": "IN", "pilipinas": "PH",
    "misr": "EG", "al maghrib": "MA", "al jazair": "DZ", "tunis": "TN", "suriya": "SY",
    "lubnan": "LB", "al iraq": "IQ", "al urdun": "JO", "al yaman": "YE", "soomaaliya": "SO",
    "ityopya": "ET", "ertra": "ER",
    # other scripts
    "россия": "RU", "україна": "UA", "беларусь": "BY", "中国": "CN", "中华人民共和国": "CN",
    "日本": "JP", "대한민국": "KR", "한국": "KR", "việt nam": "VN", "مصر": "EG",
    "سوريا": "SY", "العراق": "IQ", "المغرب": "MA", "ایران": "IR", "افغانستان": "AF",
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
    for k, v in _ENDONYMS.items():
        out.setdefault(normalise_text(k) or k, v)   # never overrides an English name
    return out


def to_alpha2(value: str | None) -> str | None:
    """'MEX', 'Mexico', 'mx' -> 'MX'; unknown -> None."""
    k = normalise_text(value)
    return country_lookup().get(k) if k else None
