"""The ``governance:`` and ``retention:`` sections of workspace.yaml."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class GovernanceConfig(BaseModel):
    """``governance:`` section.

    Example::

        governance:
          session_hours: 8
          lockout_attempts: 5
          lockout_minutes: 15
          purpose_min_chars: 20
          case_number_pattern: '^[A-Z]{1,6}-\\d{2,}(-\\d+)*$'
    """

    model_config = ConfigDict(extra="forbid")

    session_hours: float = Field(8.0, gt=0, le=24 * 30)
    lockout_attempts: int = Field(5, ge=1, le=100)
    lockout_minutes: float = Field(15.0, ge=0)
    password_min_chars: int = Field(12, ge=8)
    purpose_min_chars: int = Field(20, ge=5)
    case_number_pattern: str = r"^[A-Z]{1,6}-\d{2,}(-\d+)*$"
    max_request_bytes: int = Field(1_000_000, ge=1024)
    #: "auto": Secure cookies except over plain http to a loopback host (local demo)
    secure_cookies: str = Field("auto", pattern="^(auto|always|never)$")


class RetentionConfig(BaseModel):
    """``retention:`` section: days to keep records of each source (by load time).

    Example::

        retention:
          default_days: null        # keep sources not listed for ever
          sources:
            app_reports: 365
            dmv: 3650
    """

    model_config = ConfigDict(extra="forbid")

    default_days: int | None = Field(None, ge=0)
    sources: dict[str, int] = Field(default_factory=dict)


def governance_config(ws: Any) -> GovernanceConfig:
    return ws.section("governance", GovernanceConfig)


def retention_config(ws: Any) -> RetentionConfig:
    return ws.section("retention", RetentionConfig)
