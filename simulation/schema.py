"""The scenario file's schema (YAML), as pydantic models.

A scenario is a service configuration plus what the simulator needs to play a
day against it. The configuration is the service's own (`ringway.schema`): the
``config`` key holds it inline, or names a configuration file (relative to the
scenario), so queues, agents, skills and strategies are declared exactly as in
production. Everything else here is traffic, people and run control:

``interval`` / ``intervals`` / ``start``
    the planning grid: interval length (``15m``, ``30m``), how many, and the
    clock label of the first (display only, default ``00:00``).
``warmup`` / ``drain``
    simulated before interval 0 at interval 0's traffic and staffing, and
    after the last interval with no new arrivals until every contact is closed
    (or ``drain`` has passed); neither counts in the results.
``replications`` / ``seed`` / ``antithetic``
    independent runs (seeded streams per purpose, see `simulation.streams`);
    ``antithetic: true`` runs them in pairs with mirrored random numbers.
``arrivals``
    per queue: ``rate`` (contacts per hour, Poisson) with an optional day
    ``profile`` (one factor per interval), or ``volumes`` (contacts per
    interval), or ``report`` (a ``ringway report intervals --json`` file).
``handling``
    per queue: ``talk_time`` (connected time), ``wrap_up`` (after-call work;
    absent: the queue's ``wrap_up_s`` timer ends it, as in production) and
    ``patience`` (absent or ``none``: nobody hangs up). Handle time (AHT) is
    talk + wrap-up, as the router's ``ContactCompleted.handle`` measures it.
``staff``
    who is logged in when: groups of generated agents (``group`` + ``count`` +
    ``skills``) or agents of the config (``agents: [id, ...]``), each with an
    optional ``shift`` and ``breaks``. Absent: every config agent, all day.
``answer_delay``
    seconds from offer to accept (default 0); simulated agents always accept.
``staffing`` / ``variants``
    options for ``ringway staff``; alternative ``staff`` plans to compare.
``x-...``
    ignored: a place for YAML anchors (``x-day: &day [0.5, ...]``, then
    ``profile: *day``), as docker compose allows.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Duration = float | str  # seconds, or "15m", "2h", "90s"; clock times "08:30" where stated


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DistributionDoc(Strict):
    """``{dist: exponential, mean: 180}``, ``{dist: lognormal, mean: 240, sd: 120}``,
    ``{dist: constant, value: 30}``, ``{dist: uniform, low: 2, high: 6}``,
    ``{dist: empirical, csv: talk.csv, column: talk_s}`` or ``{dist: none}``."""

    dist: Literal["exponential", "lognormal", "constant", "uniform", "empirical", "none"]
    mean: float | None = Field(None, gt=0)
    sd: float | None = Field(None, ge=0)
    value: float | None = Field(None, ge=0)
    low: float | None = Field(None, ge=0)
    high: float | None = Field(None, ge=0)
    csv: str | None = None
    column: str | None = None

    @model_validator(mode="after")
    def parameters(self) -> DistributionDoc:
        needs = {
            "exponential": ("mean",),
            "lognormal": ("mean", "sd"),
            "constant": ("value",),
            "uniform": ("low", "high"),
            "empirical": ("csv",),
            "none": (),
        }[self.dist]
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"{self.dist} needs {' and '.join(missing)}")
        if self.dist == "uniform" and (self.low or 0) > (self.high or 0):
            raise ValueError("uniform needs low <= high")
        return self


class ArrivalDoc(Strict):
    queue: str = Field(min_length=1)
    rate: float | None = Field(None, ge=0)  # contacts per hour
    profile: list[float] | None = None
    volumes: list[float] | None = None  # contacts per interval
    report: str | None = None
    report_queue: str | None = None
    scale: float = Field(1.0, ge=0)

    @model_validator(mode="after")
    def one_source(self) -> ArrivalDoc:
        given = [k for k in ("rate", "volumes", "report") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'rate', 'volumes', 'report'")
        if self.profile is not None and self.rate is None:
            raise ValueError("'profile' scales a 'rate'; give a 'rate' with it")
        if any(v < 0 for v in [*(self.profile or ()), *(self.volumes or ())]):
            raise ValueError("profile factors and volumes must be >= 0")
        return self


class HandlingDoc(Strict):
    queue: str = Field(min_length=1)  # a queue name, or "*" for every queue not listed
    talk_time: DistributionDoc
    wrap_up: DistributionDoc | None = None
    patience: DistributionDoc | None = None


class BreakDoc(Strict):
    start: Duration  # offset from the shift start
    length: Duration
    spread: Duration = 0.0  # the group's agents start one after another over this window


class ShiftDoc(Strict):
    start: Duration = 0.0  # offset from interval 0, or a clock time "08:30"
    end: Duration | None = None  # absent: until the run ends


class StaffDoc(Strict):
    group: str | None = Field(None, pattern=r"^[A-Za-z0-9_.\-]+$")
    count: int | None = Field(None, ge=0)
    skills: dict[str, int] | None = None
    capacity: dict[str, int] | None = None
    agents: list[str] | None = None
    shift: ShiftDoc | None = None
    breaks: list[BreakDoc] = []

    @model_validator(mode="after")
    def one_kind(self) -> StaffDoc:
        generated = self.group is not None or self.count is not None or self.skills is not None
        if generated == (self.agents is not None):
            raise ValueError("give either 'group' + 'count' + 'skills', or 'agents'")
        if generated and (self.group is None or self.count is None or self.skills is None):
            raise ValueError("a generated group needs 'group', 'count' and 'skills'")
        return self


class StaffingDoc(Strict):
    shrinkage: float = Field(0.0, ge=0, lt=1)
    max_occupancy: float = Field(1.0, gt=0, le=1)
    max_abandon: float = Field(1.0, gt=0, le=1)
    replications: int = Field(4, ge=1, le=1000)
    run_length: Duration = "8h"  # simulated steady-state time per refinement run


class VariantDoc(Strict):
    staff: list[StaffDoc]
    description: str = ""


class ScenarioDoc(Strict):
    name: str = Field(min_length=1)
    description: str = ""
    config: dict[str, Any] | str
    interval: Duration = "30m"
    intervals: int = Field(ge=1, le=100_000)
    start: str = "00:00"
    warmup: Duration = 0.0
    drain: Duration = "4h"
    replications: int = Field(1, ge=1, le=10_000)
    seed: int = 1
    antithetic: bool = False
    answer_delay: DistributionDoc | None = None
    arrivals: list[ArrivalDoc] = Field(min_length=1)
    handling: list[HandlingDoc] = Field(min_length=1)
    staff: list[StaffDoc] | None = None
    staffing: StaffingDoc = StaffingDoc()
    variants: dict[str, VariantDoc] = {}
