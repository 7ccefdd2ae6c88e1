"""The enforcement policy: one versioned YAML file (gates, priority weights, lead rules).

A default ships in the package (``default_policy.yaml``); ``--policy FILE`` replaces it
entirely. The file is validated with pydantic (unknown keys are errors, so a typo never
silently falls back to a default) and its version -- the declared ``version`` plus a hash of
the file's bytes -- is stamped on every result it produces.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_POLICY_RESOURCE = "default_policy.yaml"


class PolicyError(ValueError):
    """A policy file a user can fix (unreadable, not YAML, or a bad key); message names the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GatesPolicy(_Strict):
    appeal_window_days: int = Field(30, ge=0)
    identity_confidence_threshold: float = Field(0.9, ge=0, le=1)
    fact_link_threshold: float = Field(0.9, ge=0, le=1)
    identity_rival_threshold: float = Field(0.9, ge=0, le=1)
    final_at_once_types: tuple[str, ...] = ()
    order_stands_outcomes: tuple[str, ...] = ("dismissed", "denied", "affirmed", "withdrawn")
    order_falls_outcomes: tuple[str, ...] = ("sustained", "granted", "remanded", "reversed",
                                             "vacated", "reopened", "terminated")


class PriorityPolicy(_Strict):
    severity_points: dict[str, float] = Field(default_factory=lambda: {
        "felony": 40.0, "misdemeanor": 10.0, "infraction": 1.0})
    max_convictions: int = Field(5, ge=0)
    category_points: dict[str, float] = Field(default_factory=dict)
    sentence_points_per_year: float = 2.0
    sentence_max_points: float = 10.0
    recency_points: float = 20.0
    recency_half_life_years: float = Field(5.0, gt=0)
    pending_charge_points: float = 8.0
    max_pending_charges: int = Field(3, ge=0)
    prior_removal_points: float = 25.0
    reinstated_order_points: float = 15.0
    multiple_orders_points: float = 10.0
    in_absentia_points: float = 5.0
    final_order_points_per_year: float = 2.0
    final_order_max_points: float = 10.0


class SensitiveSitesPolicy(_Strict):
    enabled: bool = True
    distance_m: float = Field(300.0, ge=0)


class UncertainIdentityPolicy(_Strict):
    """When a candidate's evidence is only uncertainly the person's (``uncertain_identity``)."""

    #: An evidence record linked to the person below this probability is uncertainly theirs.
    min_link_probability: float = Field(0.9, ge=0, le=1)
    #: ... and so is one with an open link at or above this probability to another person's
    #: record (``identity_links`` / open ``identity_review``; resolve keeps links from 0.3).
    rival_min_probability: float = Field(0.3, ge=0, le=1)
    #: Confidence ceiling (0-100) of a candidate whose every evidence record is uncertain.
    max_confidence: float = Field(50.0, ge=0, le=100)


class LeadsPolicy(_Strict):
    max_candidates: int = Field(3, ge=1, le=10)
    half_life_days: float = Field(180.0, gt=0)
    stale_after_days: int = Field(365, ge=0)
    reliability_by_kind: dict[str, float] = Field(default_factory=dict)
    default_reliability: float = Field(0.4, ge=0, le=1)
    reliability_by_source: dict[str, float] = Field(default_factory=dict)
    repeat_weight: float = Field(0.15, ge=0, le=1)
    shared_address_min_persons: int = Field(2, ge=2)
    workplace_kinds: tuple[str, ...] = ("employment",)
    workplace_last: bool = True
    sensitive_sites: SensitiveSitesPolicy = SensitiveSitesPolicy()
    uncertain_identity: UncertainIdentityPolicy = UncertainIdentityPolicy()

    def reliability(self, source: str, kind: str) -> float:
        """Reliability of an address from ``source`` observed as ``kind`` (source overrides kind)."""
        if source in self.reliability_by_source:
            return self.reliability_by_source[source]
        return self.reliability_by_kind.get(kind, self.default_reliability)


class Policy(_Strict):
    """The whole policy file."""

    version: str = Field(min_length=1)
    gates: GatesPolicy = GatesPolicy()
    priority: PriorityPolicy = PriorityPolicy()
    leads: LeadsPolicy = LeadsPolicy()


@dataclass(frozen=True)
class LoadedPolicy:
    """A validated policy with its stamp (``version+hash``) and the exact text it came from."""

    policy: Policy
    version: str
    text: str
    origin: str


def policy_version(declared: str, text: str) -> str:
    return f"{declared}+{hashlib.sha256(text.encode('utf-8')).hexdigest()[:10]}"


def default_policy_text() -> str:
    return resources.files("casegraph.policy").joinpath(DEFAULT_POLICY_RESOURCE).read_text(
        encoding="utf-8")


def parse_policy(text: str, origin: str = "<policy>") -> LoadedPolicy:
    """Validate policy YAML text; raises :class:`PolicyError` naming the offending key."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise PolicyError(f"{origin}: not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise PolicyError(f"{origin}: the top level must be a mapping with a `version` key")
    try:
        policy = Policy.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
        more = f" (and {len(e.errors()) - 1} more problems)" if len(e.errors()) > 1 else ""
        raise PolicyError(f"{origin}: {loc}: {first['msg']}{more}") from e
    return LoadedPolicy(policy, policy_version(policy.version, text), text, origin)


def load_policy(path: str | Path | None = None) -> LoadedPolicy:
    """The policy in ``path``, or the packaged default when ``path`` is None."""
    if path is None:
        return parse_policy(default_policy_text(), origin=f"(default) {DEFAULT_POLICY_RESOURCE}")
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise PolicyError(f"cannot read policy file {p}: {e.strerror or e}") from e
    return parse_policy(text, origin=str(p))
