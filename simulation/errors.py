"""Scenario errors, located the way `ringway.config` locates configuration errors.

Every problem is one `ringway.config.ConfigError`: ``file:line: key: problem``,
e.g. ``day.yaml:12: arrivals[0].rate: must be >= 0``. The line comes from the
YAML marks (`ringway.yamlmarks`); pydantic's messages are shortened to the
planner's words.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from pydantic import ValidationError

from ringway.config import ConfigError
from ringway.yamlmarks import line_of

KeyPath = tuple[Hashable, ...]
Marks = dict[KeyPath, int]

_BOUNDS = {
    "greater_than_equal": (">=", "ge"),
    "greater_than": (">", "gt"),
    "less_than_equal": ("<=", "le"),
    "less_than": ("<", "lt"),
}


def dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def located(source: str, marks: Marks, path: KeyPath, problem: str) -> ConfigError:
    return ConfigError(source, line_of(marks, path), dotted(path), problem)


def from_pydantic(exc: ValidationError, source: str, marks: Marks) -> ConfigError:
    """The first schema error, at its YAML line, with its key path and a short message."""
    errors = exc.errors()
    first = errors[0]
    path = _yaml_path(first["loc"], marks, missing=first["type"] == "missing")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return located(source, marks, path, _message(first) + more)


def _yaml_path(loc: tuple[Any, ...], marks: Marks, *, missing: bool) -> KeyPath:
    """Keep the parts of pydantic's location that are keys or indexes of the document.

    pydantic adds union members and validator names (``float``, ``str``,
    ``function-after[...]``) that are not in the YAML; they are dropped.
    """
    path: KeyPath = ()
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(part, int) or (*path, part) in marks or (missing and last):
            path = (*path, part)
    return path


def _message(error: Any) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing":
        return "required key missing"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind in _BOUNDS:
        symbol, name = _BOUNDS[kind]
        bound = ctx.get(name)
        return (
            f"must be {symbol} {bound:g}"
            if isinstance(bound, float)
            else (f"must be {symbol} {bound}")
        )
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")
