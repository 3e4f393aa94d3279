"""Load and validate a scenario file (schema: `simulation.schema`).

Every problem is one ``file:line: key: problem`` line (`ringway.config.ConfigError`),
whether it is a schema error, a reference to a queue, agent or skill that does
not exist, a CSV that cannot be read, or a report that does not cover the plan.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ringway.config import ConfigError, RingwayConfig
from ringway.yamlmarks import YamlSyntaxError, load_with_marks
from simulation import durations
from simulation.embed import ConfigSource, config_source
from simulation.errors import KeyPath, Marks, from_pydantic, located
from simulation.model import Scenario, StaffingOptions
from simulation.schema import ScenarioDoc, StaffDoc
from simulation.staffplan import StaffBuilder, generated_agent_docs
from simulation.traffic import TrafficBuilder


def load_scenario(path: str | Path) -> Scenario:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), None, "", f"cannot read: {exc.strerror or exc}") from None
    return load_scenario_text(text, str(path), file.parent)


def load_scenario_text(
    text: str, source: str = "<scenario>", base_dir: Path | None = None
) -> Scenario:
    try:
        data, marks = load_with_marks(text)
    except YamlSyntaxError as exc:
        raise ConfigError(source, exc.line, "", exc.problem) from None
    if not isinstance(data, dict):
        raise ConfigError(source, 1, "", "a scenario must be a mapping (name, config, arrivals…)")
    # "x-" keys hold YAML anchors (a day profile shared by several queues), as in
    # docker compose; they are not part of the scenario.
    data = {k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith("x-"))}
    try:
        doc = ScenarioDoc.model_validate(data)
    except ValidationError as exc:
        raise from_pydantic(exc, source, marks) from None
    return _Loader(doc, source, marks, base_dir or Path(".")).build()


class _Loader:
    def __init__(self, doc: ScenarioDoc, source: str, marks: Marks, base_dir: Path) -> None:
        self.doc, self.source, self.marks, self.base_dir = doc, source, marks, base_dir

    def fail(self, path: KeyPath, problem: str) -> ConfigError:
        return located(self.source, self.marks, path, problem)

    def seconds(self, key: str, value: float | str, *, positive: bool = False) -> float:
        try:
            seconds = durations.duration(value)
        except ValueError as exc:
            raise self.fail((key,), str(exc)) from None
        if positive and seconds <= 0:
            raise self.fail((key,), "must be > 0")
        return seconds

    def build(self) -> Scenario:
        doc = self.doc
        interval = self.seconds("interval", doc.interval, positive=True)
        try:
            start_clock = durations.clock(doc.start)
        except ValueError as exc:
            raise self.fail(("start",), str(exc)) from None
        origin = config_source(self.doc.config, self.source, self.marks, self.base_dir)
        config = self.config(origin)
        agents = origin.data.get("agents") or []
        own = {str(a["id"]) for a in agents if isinstance(a, dict) and "id" in a}
        staff = StaffBuilder(config, self.source, self.marks, start_clock, own)
        traffic = TrafficBuilder(config, self.source, self.marks, self.base_dir, interval)
        return Scenario(
            name=doc.name,
            source=self.source,
            config=config,
            interval_s=interval,
            intervals=doc.intervals,
            start_clock_s=start_clock,
            warmup_s=self.seconds("warmup", doc.warmup),
            drain_s=self.seconds("drain", doc.drain),
            replications=self.replications(),
            seed=doc.seed,
            antithetic=doc.antithetic,
            traffic=traffic.build(doc.arrivals, doc.handling, doc.intervals),
            staff=staff.build(("staff",), doc.staff),
            answer_delay=traffic.answer_delay(doc.answer_delay),
            staffing=self.staffing(),
            variants=tuple(
                (name, staff.build(("variants", name, "staff"), variant.staff))
                for name, variant in doc.variants.items()
            ),
            description=doc.description,
        )

    def replications(self) -> int:
        if self.doc.antithetic and self.doc.replications % 2:
            raise self.fail(("replications",), "antithetic runs come in pairs: use an even number")
        return self.doc.replications

    def config(self, origin: ConfigSource) -> RingwayConfig:
        extra: list[dict[str, Any]] = []
        for index, item in enumerate(self.doc.staff or []):
            extra.extend(self._generated(("staff", index), item, origin.declared_skills))
        return origin.build(extra)

    def _generated(
        self, path: KeyPath, item: StaffDoc, declared: set[str] | None
    ) -> list[dict[str, Any]]:
        if item.agents is not None:
            return []
        for skill, level in (item.skills or {}).items():
            if declared is not None and skill not in declared:
                raise self.fail((*path, "skills", skill), f"undeclared skill {skill}")
            if not 1 <= level <= 10:
                raise self.fail((*path, "skills", skill), f"proficiency {level} outside 1-10")
        return generated_agent_docs(item)

    def staffing(self) -> StaffingOptions:
        doc = self.doc.staffing
        run_length = self.seconds("staffing", doc.run_length, positive=True)
        return StaffingOptions(
            shrinkage=doc.shrinkage,
            max_occupancy=doc.max_occupancy,
            max_abandon=doc.max_abandon,
            replications=doc.replications,
            run_length_s=run_length,
        )
