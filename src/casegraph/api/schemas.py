"""Request and response models of the HTTP API (pydantic, at the API edge only)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from casegraph.cases.workflow import OUTCOMES

Text = str


def _no_nul(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    if isinstance(value, dict):
        for v in value.values():
            _no_nul(v)
    if isinstance(value, list):
        for v in value:
            _no_nul(v)
    return value


class Strict(BaseModel):
    """Request bodies: unknown fields and NUL characters refused."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        return _no_nul(data)


class LoginIn(Strict):
    username: str = Field(..., min_length=1, max_length=64)
    password: str = Field(..., min_length=1, max_length=1024)
    mode: Literal["bearer", "cookie"] = Field(
        "bearer", description="bearer: token in the response; cookie: HTTP-only session cookie")


class LoginOut(BaseModel):
    username: str
    role: str
    token: str | None = Field(None, description="bearer token (mode=bearer only)")
    token_type: str | None = None
    csrf_token: str | None = Field(None, description="CSRF token (mode=cookie only)")
    expires_at: str
    permissions: list[str]


class Me(BaseModel):
    username: str
    role: str
    session: str | None
    csrf_token: str | None
    expires_at: str | None
    permissions: list[str]


class Page(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[dict[str, Any]]


class LeadPage(Page):
    run_id: str | None = None


class SearchOut(BaseModel):
    query: str
    engine: str
    limit: int
    offset: int
    items: list[dict[str, Any]]


class ApproveIn(Strict):
    reason: str = Field(..., min_length=3, max_length=2000)
    acknowledge: list[Literal["sensitive_site", "needs_review"]] = Field(
        default_factory=list, max_length=10,
        description="flags the supervisor explicitly acknowledges")


class RejectIn(Strict):
    reason: str = Field(..., min_length=3, max_length=2000)


class DecisionOut(BaseModel):
    lead_id: str
    person_id: str | None
    decision: str
    decided_at: str
    case_id: str | None = None
    recheck: dict[str, Any] | None = None


class AssignIn(Strict):
    officer: str = Field(..., min_length=1, max_length=64)
    note: str | None = Field(None, max_length=5000)


class OutcomeIn(Strict):
    outcome: Literal[OUTCOMES]  # type: ignore[valid-type]
    note: str | None = Field(None, max_length=5000)


class NoteIn(Strict):
    note: str = Field(..., min_length=1, max_length=5000)


class CaseOut(BaseModel):
    case_id: str
    lead_id: str
    person_id: str | None
    status: str
    assigned_to: str | None
    opened_by: str
    opened_at: str
    updated_at: str
    events: list[dict[str, Any]] | None = None


class ReviewDecisionIn(Strict):
    decision: Literal["same", "different"]
    reason: str = Field(..., min_length=3, max_length=2000)


class UserIn(Strict):
    username: str = Field(..., min_length=2, max_length=64)
    role: Literal["analyst", "supervisor", "officer", "logistics", "auditor", "admin"]
    password: str | None = Field(None, min_length=12, max_length=1024,
                                 description="omit to generate one (returned once)")


class RoleIn(Strict):
    role: Literal["analyst", "supervisor", "officer", "logistics", "auditor", "admin"]


class UserOut(BaseModel):
    username: str
    role: str
    disabled: bool
    created_at: str
    last_login_at: str | None = None
    locked_until: str | None = None
    generated_password: str | None = None


class VerifyOut(BaseModel):
    ok: bool
    events: int
    first_bad_seq: int | None
    message: str
    head_hash: str | None = Field(None, description="hash of the last event: keep a copy "
                                                    "outside the system to detect truncation")


class RetentionIn(Strict):
    dry_run: bool = False


class RetentionOut(BaseModel):
    as_of: str
    dry_run: bool
    purged: dict[str, int]
    quarantine_purged: dict[str, int]
    total: int


class Health(BaseModel):
    status: str
    version: str
