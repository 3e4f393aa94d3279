"""The service configuration inside a scenario, checked by the service's own rules.

``config:`` is either a mapping (the configuration inline) or a path to a
configuration file, relative to the scenario. Either way it goes through the
same pydantic schema and the same builder as ``ringway serve`` uses
(`ringway.config`), so a scenario cannot declare a queue production would
refuse. Generated staff (``staff: [{group, count, skills}]``) is added to the
configuration's agents first, so skill expressions see their skills.

Errors keep the service's wording; inline ones get the ``config.`` prefix and
the scenario file's line, file ones name the configuration file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

# The loader's building blocks are private to ringway.config; reusing them here
# (rather than copying them) is what keeps the two schemas one. A public
# `build_config(data, marks, source)` there would be the cleaner seam.
from ringway.config import ConfigError, RingwayConfig, _Builder, _schema_error
from ringway.schema import ConfigDoc
from ringway.yamlmarks import YamlSyntaxError, load_with_marks
from simulation.errors import KeyPath, Marks


@dataclass(frozen=True, slots=True)
class ConfigSource:
    """The configuration's data and where its lines are (the scenario, or its own file)."""

    data: dict[str, Any]
    source: str
    marks: dict[KeyPath, int]
    prefix: str  # "config." for an inline configuration, "" for a file

    @property
    def declared_skills(self) -> set[str] | None:
        skills = self.data.get("skills")
        return set(skills) if isinstance(skills, list) and skills else None

    def build(self, extra_agents: list[dict[str, Any]]) -> RingwayConfig:
        data = self.data
        if extra_agents:
            data = {**data, "agents": [*(data.get("agents") or []), *extra_agents]}
        try:
            try:
                doc = ConfigDoc.model_validate(data)
            except ValidationError as exc:
                raise _schema_error(exc, self.source, self.marks) from None
            return _Builder(doc, self.source, self.marks).build()
        except ConfigError as exc:
            key = f"{self.prefix}{exc.key}" if exc.key else self.prefix.rstrip(".")
            raise ConfigError(exc.source, exc.line, key, exc.problem) from None


def config_source(
    value: dict[str, Any] | str, source: str, marks: Marks, base_dir: Path
) -> ConfigSource:
    if not isinstance(value, str):
        inner = {path[1:]: line for path, line in marks.items() if path[:1] == ("config",)}
        return ConfigSource(value, source, inner, "config.")
    path = base_dir / value
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        line = marks.get(("config",))
        raise ConfigError(source, line, "config", f"cannot read {path}: {exc.strerror}") from None
    try:
        data, file_marks = load_with_marks(text)
    except YamlSyntaxError as exc:
        raise ConfigError(str(path), exc.line, "", exc.problem) from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), 1, "", "the file must be a mapping (queues, agents…)")
    return ConfigSource(data, str(path), file_marks, "")
