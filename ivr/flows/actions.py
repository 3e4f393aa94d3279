"""What a `FlowRun` asks its driver to do (IVR-CONTRACT.md): small frozen commands.

The driver (call control) executes them in list order. `Route`, `OfferCallback`
and `Hangup` are terminal: after one of them the run is finished.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True, slots=True)
class Play:
    """Play ``prompts`` (PromptLibrary names) in order, then call ``on_prompt_done``.

    If ``interruptible``, a digit stops playback (the driver stops the player)
    and the digit is delivered with ``on_digit``; otherwise digits typed during
    the prompt are discarded by the run.
    """

    prompts: tuple[str, ...]
    interruptible: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class StopPlayback:
    """Stop the current prompt now (idempotent: the player may already be stopped)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Route:
    """Hand the call to the router: queue it with these contact attributes."""

    queue: str
    attributes: dict[str, str] = field(default_factory=dict)
    priority: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class OfferCallback:
    """Create a callback contact in ``queue`` for ``number``; the caller is then released."""

    queue: str
    number: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Hangup:
    """End the call. ``reason`` is recorded (e.g. ``normal``, ``flow_loop``)."""

    reason: str


FlowAction = Play | StopPlayback | Route | OfferCallback | Hangup
TERMINAL = (Route, OfferCallback, Hangup)


def frozen_positional(cls: type[T]) -> Callable[..., T]:
    """A constructor of the frozen slots dataclass ``cls`` taking every field
    positionally, in declaration order (none defaulted), for the records built per
    call: the flow's `Route`, the call session's commands and events.

    The dataclass's own ``__init__`` takes keywords and sets each field through
    ``object.__setattr__``: ~7,600 instructions for `Route`'s three fields, ~3,700
    this way, which allocates the object and stores each field through its slot's
    descriptor. The classes it serves have no ``__post_init__``; the object is the one
    the dataclass builds (equal, same repr, still frozen). Generated source, as the
    dataclass's own methods are (as `crm.model.slot_constructor`, which this package
    cannot import: it brings asyncio)."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    namespace: dict[str, Any] = {"_new_record": object.__new__, "_record_cls": cls}
    lines = [f"def make({', '.join(names)}):", "    made = _new_record(_record_cls)"]
    for index, name in enumerate(names):
        if name in ("made", "_new_record", "_record_cls") or name.startswith("_set_"):
            raise TypeError(f"{cls.__name__}: field {name} clashes with the constructor")
        namespace[f"_set_{index}"] = cls.__dict__[name].__set__  # the slot's descriptor
        lines.append(f"    _set_{index}(made, {name})")
    lines.append("    return made")
    exec("\n".join(lines), namespace)
    made: Callable[..., T] = namespace["make"]
    return made


# `Route(queue=..., attributes=..., priority=...)`, positionally (`ivr.flows.run`)
new_route: Callable[[str, dict[str, str], int], Route] = frozen_positional(Route)
