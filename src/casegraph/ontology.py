"""The canonical model: every record kind, its fields and their types, declared once.

Everything else imports this module. Ingest validates against it, the warehouse
schema is generated from it, resolution reads its identity fields and the policy
reads its facts. Adding a field is one edit here.

Storage layout (DuckDB ``records`` table): one row per *source record version*,
with the provenance columns, every identity field (display value), the matching
forms of identity fields (``*_norm``), and every fact column of every kind
(sparse: a ``conviction`` row leaves ``departure_date`` null). One wide table
keeps batches atomic, lets resolution see every record whatever its kind, and
lets the gates read facts from any system linked to a person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model


class FieldType(str, Enum):
    """Canonical value types; each maps to one DuckDB column type."""

    TEXT = "text"
    DATE = "date"
    DATETIME = "datetime"
    BOOL = "bool"
    INT = "int"
    FLOAT = "float"


DUCKDB_TYPES: dict[FieldType, str] = {
    FieldType.TEXT: "VARCHAR",
    FieldType.DATE: "DATE",
    FieldType.DATETIME: "TIMESTAMP",
    FieldType.BOOL: "BOOLEAN",
    FieldType.INT: "BIGINT",
    FieldType.FLOAT: "DOUBLE",
}

PYTHON_TYPES: dict[FieldType, type] = {
    FieldType.TEXT: str,
    FieldType.DATE: dt.date,
    FieldType.DATETIME: dt.datetime,
    FieldType.BOOL: bool,
    FieldType.INT: int,
    FieldType.FLOAT: float,
}


@dataclass(frozen=True)
class FieldSpec:
    """One canonical field: its type, allowed values (enums) and whether it is sensitive."""

    name: str
    type: FieldType = FieldType.TEXT
    choices: tuple[str, ...] | None = None
    sensitive: bool = False
    doc: str = ""


def _f(name: str, type_: FieldType = FieldType.TEXT, choices: tuple[str, ...] | None = None,
       sensitive: bool = False, doc: str = "") -> FieldSpec:
    return FieldSpec(name, type_, choices, sensitive, doc)


T, D, DT, B, I, F = (FieldType.TEXT, FieldType.DATE, FieldType.DATETIME, FieldType.BOOL,
                     FieldType.INT, FieldType.FLOAT)

#: Provenance carried by every stored record.
PROVENANCE_FIELDS: tuple[FieldSpec, ...] = (
    _f("source"), _f("record_id"), _f("batch_id"), _f("loaded_at", DT), _f("kind"),
)

NAME_FIELDS = ("full_name", "given_name", "middle_name", "family_name")
ADDRESS_FIELDS = ("street_number", "street", "street_address", "unit", "locality", "region",
                  "postcode", "country")

#: Identity fields: any kind may carry any of them.
IDENTITY_FIELDS: tuple[FieldSpec, ...] = (
    _f("full_name", doc="Whole name as written; parsed into parts when parts are absent"),
    _f("given_name"), _f("middle_name"), _f("family_name"),
    _f("name_aliases", doc="Other names, separated by ';'"),
    _f("birth_date", D), _f("sex", choices=("M", "F", "X")),
    _f("nationality", doc="ISO 3166-1 alpha-2"), _f("birth_country", doc="ISO 3166-1 alpha-2"),
    _f("a_number", doc="Alien registration number: 8-9 digits, stored zero-padded to 9"),
    _f("fbi_number"), _f("passport_number"), _f("passport_country"),
    _f("national_id"), _f("driver_licence"), _f("phone"), _f("email"),
    _f("street_number"), _f("street"), _f("street_address"), _f("unit"),
    _f("locality"), _f("region"), _f("postcode"), _f("country"),
)

#: Matching forms computed at ingest (lower case, accents folded, punctuation removed).
NORMALISED_FIELDS: tuple[str, ...] = (
    "full_name", "given_name", "middle_name", "family_name", "name_aliases",
    "street", "street_address", "unit", "locality", "region",
)

LOCATION_KINDS = ("residence", "employment", "mail", "utility", "booking")
CASE_EVENT_TYPES = (
    "appeal_filed", "appeal_decided", "motion_to_reopen_filed", "motion_decided",
    "petition_for_review_filed", "petition_decided", "stay_granted", "stay_ended",
    "relief_granted", "order_vacated",
)
DEPARTURE_CHANNELS = ("air_exit", "sea_exit", "land_exit", "biometric_exit",
                      "consular_verification", "self_report")
OFFICIAL_DEPARTURE_CHANNELS = tuple(c for c in DEPARTURE_CHANNELS if c != "self_report")
STATUS_TYPES = ("us_citizen", "naturalized", "lawful_permanent_resident", "t_visa_applicant",
                "u_visa_applicant", "vawa_self_petitioner", "tps", "other")
PROTECTED_STATUS_TYPES = ("t_visa_applicant", "u_visa_applicant", "vawa_self_petitioner")


@dataclass(frozen=True)
class KindSpec:
    """A record kind: its facts and which of them a row must have to be a record at all."""

    name: str
    facts: tuple[FieldSpec, ...]
    required: tuple[str, ...] = ()
    doc: str = ""
    fields: dict[str, FieldSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        allf = {f.name: f for f in IDENTITY_FIELDS}
        allf.update({f.name: f for f in self.facts})
        object.__setattr__(self, "fields", allf)


KINDS: dict[str, KindSpec] = {k.name: k for k in (
    KindSpec("person", (), doc="Identity only"),
    KindSpec("removal_order", (
        _f("order_date", D),
        _f("order_type", choices=("removal", "deportation", "exclusion", "expedited", "reinstated")),
        _f("in_absentia", B), _f("appeal_waived", B),
        _f("case_number"), _f("court"),
    ), required=("order_date",)),
    KindSpec("case_event", (
        _f("event_type", choices=CASE_EVENT_TYPES), _f("event_date", D), _f("outcome"),
        _f("stay_end_date", D), _f("case_number"), _f("stay_authority"),
    ), required=("event_type", "event_date")),
    KindSpec("encounter", (
        _f("encounter_date", D), _f("agency"), _f("encounter_type"), _f("charges"),
        _f("charge_status", doc="pending / convicted / dismissed"),
    ), required=("encounter_date",)),
    KindSpec("conviction", (
        _f("offense_code"), _f("offense_category"),
        _f("severity", choices=("felony", "misdemeanor", "infraction")),
        _f("conviction_date", D), _f("sentence_days", I),
    ), required=("conviction_date",)),
    KindSpec("location", (
        _f("location_kind", choices=LOCATION_KINDS), _f("observed_on", D),
        _f("latitude", F), _f("longitude", F),
    ), required=("observed_on",)),
    KindSpec("departure", (
        _f("departure_date", D), _f("channel", choices=DEPARTURE_CHANNELS), _f("port"),
        _f("carrier"), _f("destination_country"), _f("document_used"),
    ), required=("departure_date", "channel")),
    KindSpec("status", (
        _f("status_type", choices=STATUS_TYPES, sensitive=False), _f("status_date", D),
        _f("status_detail", sensitive=True, doc="Protected-status details: masked for most roles"),
    ), required=("status_type",)),
    KindSpec("detention", (
        _f("facility_id"), _f("book_in_date", D), _f("book_out_date", D),
        _f("travel_document", choices=("ready", "requested", "none")),
        _f("medical_hold", B), _f("legal_hold", B),
    ), required=("facility_id", "book_in_date")),
    KindSpec("facility", (
        _f("facility_id"), _f("name"), _f("capacity", I), _f("latitude", F), _f("longitude", F),
    ), required=("facility_id",)),
    KindSpec("transport_leg", (
        _f("leg_id"), _f("mode", choices=("charter_air", "commercial_air", "bus")), _f("origin"),
        _f("destination_country"), _f("departs_at", DT), _f("seats", I), _f("cost", F),
    ), required=("leg_id", "destination_country", "departs_at", "seats")),
    KindSpec("sensitive_site", (
        _f("site_kind", choices=("school", "hospital", "place_of_worship", "courthouse",
                                 "shelter", "other")),
        _f("name"), _f("latitude", F), _f("longitude", F),
    ), required=("site_kind",)),
)}

#: Kinds that describe things rather than people: not clustered into persons.
NON_PERSON_KINDS = ("facility", "transport_leg", "sensitive_site")


def all_fact_fields() -> dict[str, FieldSpec]:
    """Every fact column across kinds (a name used by two kinds must have one type)."""
    out: dict[str, FieldSpec] = {}
    for kind in KINDS.values():
        for f in kind.facts:
            prev = out.get(f.name)
            if prev is not None and prev.type != f.type:
                raise TypeError(f"fact {f.name!r} has two types: {prev.type} and {f.type}")
            out.setdefault(f.name, f)
    return out


FACT_FIELDS: dict[str, FieldSpec] = all_fact_fields()
IDENTITY_BY_NAME: dict[str, FieldSpec] = {f.name: f for f in IDENTITY_FIELDS}
SENSITIVE_FIELDS: frozenset[str] = frozenset(
    f.name for f in (*IDENTITY_FIELDS, *FACT_FIELDS.values()) if f.sensitive)


def records_columns() -> list[tuple[str, str]]:
    """(column, DuckDB type) of the ``records`` table, in order."""
    cols: list[tuple[str, str]] = [
        ("source", "VARCHAR"), ("record_id", "VARCHAR"), ("batch_id", "VARCHAR"),
        ("loaded_at", "TIMESTAMP"), ("kind", "VARCHAR"),
        ("record_key", "VARCHAR"),  # source || ':' || record_id, the record's stable key
        ("is_current", "BOOLEAN"),  # false once a later batch supersedes this version
    ]
    cols += [(f.name, DUCKDB_TYPES[f.type]) for f in IDENTITY_FIELDS]
    cols += [(f"{n}_norm", "VARCHAR") for n in NORMALISED_FIELDS]
    cols += [(f.name, DUCKDB_TYPES[f.type]) for f in FACT_FIELDS.values()
             if f.name not in IDENTITY_BY_NAME]
    cols += [("raw", "JSON"), ("dq_issues", "JSON")]
    return cols


RECORDS_COLUMNS: list[tuple[str, str]] = records_columns()
RECORD_COLUMN_NAMES: list[str] = [c for c, _ in RECORDS_COLUMNS]


def record_model(kind: str) -> type[BaseModel]:
    """A pydantic model of one canonical record of ``kind`` (for API edges and validation)."""
    spec = KINDS[kind]
    fields: dict[str, Any] = {
        "source": (str, ...), "record_id": (str, ...), "batch_id": (str | None, None),
        "loaded_at": (dt.datetime | None, None),
    }
    for name, f in spec.fields.items():
        py = PYTHON_TYPES[f.type]
        req = name in spec.required
        fields[name] = (py, ...) if req else (py | None, None)
    return create_model(  # type: ignore[call-overload]
        f"{''.join(p.title() for p in kind.split('_'))}Record",
        __config__=ConfigDict(extra="forbid"), **fields)


RECORD_MODELS: dict[str, type[BaseModel]] = {k: record_model(k) for k in KINDS}
