"""The `logistics:` section of ``workspace.yaml``.

Example::

    logistics:
      occupancy_alert_threshold: 0.9     # alert when a facility is over 90% full
      underfill_threshold: 0.8           # a leg under 80% full should be cancelled or merged
      transfer:
        same_site_hours: 0               # leg departs from the facility itself
        same_locality_hours: 4           # facility and leg origin in the same city
        same_region_hours: 24            # ... in the same state/region
        other_hours: 48                  # anything else (null = unreachable unless in matrix)
        matrix:                          # explicit hours, facility -> origin (wins over rules)
          FAC-001: {IAH: 6, HRL: 20}
        origins:                         # where a leg origin is, when the leg record does not say
          IAH: {locality: Houston, region: TX}
      third_country:                     # destination -> other nationalities it accepts
        MX: [GT, HN, SV]
      refusing_countries: []             # destinations that accept nobody (nationals included)
      custody_gates: [not_already_resolved]   # ignored for detainees (latest_run source)
      eligibility_source: auto           # auto | evaluate | latest_run
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class OriginPlace(BaseModel):
    model_config = ConfigDict(extra="forbid")
    locality: str | None = None
    region: str | None = None


#: Removal-flight hubs (public ICE Air origins): where a leg whose origin is an airport code
#: departs from, for the same-locality / same-region transfer rules. Override or extend
#: with ``transfer.origins`` (entries there win).
DEFAULT_ORIGINS: dict[str, tuple[str, str]] = {
    "AEX": ("Alexandria", "LA"), "HRL": ("Harlingen", "TX"), "ELP": ("El Paso", "TX"),
    "SAT": ("San Antonio", "TX"), "IAH": ("Houston", "TX"), "MIA": ("Miami", "FL"),
    "AZA": ("Mesa", "AZ"), "SAN": ("San Diego", "CA"), "ATL": ("Atlanta", "GA"),
    "JFK": ("New York", "NY"), "BRO": ("Brownsville", "TX"), "LRD": ("Laredo", "TX"),
    "PHX": ("Phoenix", "AZ"), "BUF": ("Buffalo", "NY"),
}


class TransferConfig(BaseModel):
    """How long a detainee takes to get from a facility to a leg's origin."""

    model_config = ConfigDict(extra="forbid")
    same_site_hours: float = Field(0.0, ge=0)
    same_locality_hours: float = Field(4.0, ge=0)
    same_region_hours: float = Field(24.0, ge=0)
    other_hours: float | None = Field(48.0, ge=0)
    matrix: dict[str, dict[str, float | None]] = Field(default_factory=dict)
    origins: dict[str, OriginPlace] = Field(default_factory=dict)  # extends DEFAULT_ORIGINS

    def origin_place(self, origin: str) -> OriginPlace | None:
        if origin in self.origins:
            return self.origins[origin]
        if origin in DEFAULT_ORIGINS:
            loc, reg = DEFAULT_ORIGINS[origin]
            return OriginPlace(locality=loc, region=reg)
        return None


class LogisticsConfig(BaseModel):
    """Validated `logistics:` section (defaults when absent)."""

    model_config = ConfigDict(extra="forbid")
    occupancy_alert_threshold: float = Field(0.9, gt=0)
    underfill_threshold: float = Field(0.8, ge=0, le=1)
    merge_window_days: int = Field(3, ge=0)
    default_horizon_days: int = Field(14, ge=0)
    transfer: TransferConfig = Field(default_factory=TransferConfig)
    third_country: dict[str, list[str]] = Field(default_factory=dict)
    refusing_countries: list[str] = Field(default_factory=list)
    custody_gates: list[str] = Field(default_factory=lambda: ["not_already_resolved"])
    eligibility_source: Literal["auto", "evaluate", "latest_run"] = "auto"
    max_solve_seconds: float = Field(60.0, gt=0)
    solver_workers: int = Field(1, ge=1)
    parallel_components: int = Field(2, ge=1)

    def accepts(self, destination: str, nationality: str | None) -> bool:
        """Does ``destination`` accept a detainee of ``nationality``?"""
        if not nationality or destination in self.refusing_countries:
            return False
        return nationality == destination or nationality in self.third_country.get(destination, ())


def load_config(ws) -> LogisticsConfig:  # type: ignore[no-untyped-def]
    """The workspace's logistics configuration."""
    return ws.section("logistics", LogisticsConfig)
