"""The campaign file's schema (YAML), as pydantic models; `dialer.campaign` builds from it."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WindowDoc(Strict):
    """``{start: "08:00", end: "20:00", days: mon-sat}``: local time of the callee."""

    start: str = "08:00"
    end: str = "21:00"
    days: str = "mon-sun"


class WindowsDoc(Strict):
    default: list[WindowDoc] | None = None  # replaces the rule pack's base window
    regions: dict[str, list[WindowDoc]] = {}  # "FL": [...]: checked with the pack's own
    countries: dict[str, list[WindowDoc]] = {}  # by the number's country: "CA", "US", ...
    holidays: list[date] = []  # callee-local dates with no calls


class CapsDoc(Strict):
    lifetime: int | None = Field(None, ge=1)
    per_24h: int | None = Field(None, ge=1)
    regions: dict[str, int] = {}  # stricter rolling-24 h caps per region


class RetryDoc(Strict):
    after_minutes: float = Field(gt=0)
    max: int = Field(ge=0)


class PreviewDoc(Strict):
    """Preview mode: how long the agent may read the lead, and what a silence means."""

    timeout_s: float = Field(30.0, gt=0, le=600)
    on_timeout: Literal["skip", "dial"] = "skip"
    skip_retry_minutes: float = Field(60.0, ge=0)  # a skipped lead comes back this much later


class RecordingDoc(Strict):
    """Record the dialled calls once bridged to an agent (docs/recording.md): the
    ``announcement`` prompt is played to the customer before recording starts."""

    enabled: bool = False
    announcement: str | None = Field(None, pattern=r"^[A-Za-z0-9_.\-]{1,100}$")
    format: Literal["stereo", "mono"] = "stereo"  # stereo: customer left, agent right


Outcomes = Literal["busy", "no_answer", "machine", "failed", "abandoned"]


class CampaignDoc(Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    jurisdiction: Literal["US", "UK"] = "US"
    mode: Literal["preview", "progressive", "predictive"] = "progressive"
    lists: list[str] = []
    queue: str | None = None
    agents: list[str] = []
    skills: str | None = None  # a skill expression, e.g. "sales>=2"
    caller_id: str
    safe_harbour_prompt: str | None = None
    purpose: str = "marketing_calls"
    consent_required: bool = False
    abandonment_target: float = Field(0.03, gt=0, le=1)
    default_region: str | None = Field(None, pattern=r"^[A-Za-z]{2}$")
    windows: WindowsDoc = WindowsDoc()
    caps: CapsDoc = CapsDoc()
    retry: dict[Outcomes, RetryDoc] = {}
    stale_registry: Literal["warn", "block"] = "warn"
    required_fields: list[str] = []  # CSV columns every row must fill, besides phone
    preview: PreviewDoc = PreviewDoc()
    recording: RecordingDoc = RecordingDoc()
