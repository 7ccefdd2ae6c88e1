"""Tables owned by the resolve room, and its configuration section."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from casegraph.workspace import Workspace

#: Canonical identity columns of ``persons`` (display values, chosen per field).
CANONICAL_FIELDS: tuple[tuple[str, str], ...] = (
    ("given_name", "VARCHAR"), ("middle_name", "VARCHAR"), ("family_name", "VARCHAR"),
    ("full_name", "VARCHAR"), ("name_aliases", "VARCHAR"), ("birth_date", "DATE"),
    ("sex", "VARCHAR"), ("nationality", "VARCHAR"), ("birth_country", "VARCHAR"),
    ("a_number", "VARCHAR"), ("passport_number", "VARCHAR"), ("passport_country", "VARCHAR"),
    ("fbi_number", "VARCHAR"), ("national_id", "VARCHAR"), ("driver_licence", "VARCHAR"),
    ("phone", "VARCHAR"), ("email", "VARCHAR"), ("street_address", "VARCHAR"),
    ("locality", "VARCHAR"), ("region", "VARCHAR"), ("postcode", "VARCHAR"),
    ("country", "VARCHAR"),
)

DDL = [
    "create table if not exists persons (person_id varchar primary key, record_count integer, "
    "confidence double, "
    + ", ".join(f"{c} {t}" for c, t in CANONICAL_FIELDS)
    + ", provenance json, run_id varchar)",
    """create table if not exists person_records (
        record_key varchar primary key, source varchar, record_id varchar, kind varchar,
        person_id varchar, match_probability double)""",
    """create table if not exists identity_review (
        review_id varchar primary key, record_key_l varchar, record_key_r varchar,
        match_probability double, match_weight double, status varchar, created_run varchar,
        reason varchar, decided_run varchar)""",
    """create table if not exists identity_decisions (
        record_key_l varchar, record_key_r varchar, decision varchar, decided_by varchar,
        reason varchar, decided_at timestamp, review_id varchar)""",
    """create table if not exists resolve_runs (
        run_id varchar primary key, mode varchar, started_at timestamp, finished_at timestamp,
        records bigint, new_records bigint, persons bigint, changed_persons bigint,
        pairs_scored bigint, review_open bigint, trained boolean, model_path varchar,
        notes json, timings json)""",
    """create table if not exists person_events (
        run_id varchar, event varchar, person_id varchar, related json, record_count integer,
        created_at timestamp)""",
    """create table if not exists resolve_state (
        record_key varchar primary key, batch_id varchar, loaded_at timestamp)""",
]


def ensure_tables(ws: Workspace) -> None:
    for stmt in DDL:
        ws.con.execute(stmt)


DEFAULT_KIND_RELIABILITY = {
    "person": 50, "removal_order": 40, "detention": 40, "case_event": 35, "status": 35,
    "encounter": 30, "conviction": 30, "departure": 20, "location": 10,
}


class ResolveConfig(BaseModel):
    """``resolve:`` section of ``workspace.yaml``."""

    model_config = ConfigDict(extra="forbid")

    link_threshold: float = Field(0.9, gt=0, lt=1, description="follow links at or above")
    review_lower: float = Field(0.3, gt=0, lt=1, description="uncertain band starts here")
    min_density: float = Field(0.5, ge=0, le=1)
    veto_below: float = Field(0.01, ge=0, lt=1)
    min_train_records: int = Field(500, ge=3)
    max_review_items: int = Field(20000, ge=0)
    #: review items that decide nobody's eligibility (uncertain links of records without
    #: legal facts) queued per run at most; links that decide eligibility are always queued
    review_other_max: int = Field(500, ge=0)
    distinct_given_names_veto: bool = True
    #: sources known to hold at most one record per person (deduplicated registers)
    unique_sources: list[str] = Field(default_factory=list)
    #: full runs train on a random sample of at most this many records (0: every record):
    #: the model's parameters are per-workspace statistics; the sample keeps training time
    #: flat as the workspace grows (scoring and term frequencies still use every record)
    train_sample_records: int = Field(300_000, ge=0)
    #: between two unique sources a record follows only its best link into the other
    #: source (runners-up are not followed; they can go to review) ...
    one_to_one_unique_sources: bool = True
    #: ... and a mutual best link between two unique sources is followed from this
    #: probability on (unless a hard rule capped it)
    mutual_best_threshold: float = Field(0.5, gt=0, lt=1)
    source_reliability: dict[str, int] = Field(default_factory=dict)
    kind_reliability: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_KIND_RELIABILITY))


def config(ws: Workspace) -> ResolveConfig:
    return ws.section("resolve", ResolveConfig)
