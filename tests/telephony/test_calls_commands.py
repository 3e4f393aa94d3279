"""The session's commands write out their `__init__` (compiled by mypyc, not generated):
each takes every field by keyword, with the dataclass's defaults, sets every field,
and makes the record the dataclass would (equal, same repr, still frozen)."""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ivr.calls import commands as cmd

ROOT = Path(__file__).resolve().parents[2]

COMMANDS = [
    cls
    for cls in vars(cmd).values()
    if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == cmd.__name__
]
SAMPLES: dict[str, Any] = {
    "prompts": ("welcome", "menu"),
    "interruptible": True,
    "music": False,
    "contact_id": "c-1",
    "queue": "sales",
    "attributes": {"tier": "gold"},
    "priority": 3,
    "number": "+447700900456",
    "agent_id": "ann",
    "status": 486,
    "reason": "bye",
    "record": {"call_id": "x", "events": []},
}


def test_every_command_is_covered() -> None:
    assert len(COMMANDS) == len(cmd.Command.__args__)


def interpreted() -> ModuleType:
    """The module run from its source, whether or not the compiled build is loaded:
    compiled, a signature cannot be read."""
    name = "_interpreted_ivr_calls_commands"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "ivr/calls/commands.py")
        assert spec is not None and spec.loader is not None
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[name] = loaded  # dataclass reads the module's namespace
        spec.loader.exec_module(loaded)
    return sys.modules[name]


@pytest.mark.parametrize("cls", COMMANDS, ids=lambda cls: cls.__name__)
def test_the_written_init_takes_every_field_by_keyword(cls: type[Any]) -> None:
    fields = dataclasses.fields(cls)
    source = getattr(interpreted(), cls.__name__)
    params = list(inspect.signature(source.__init__).parameters.values())[1:]  # no self
    assert [p.name for p in params] == [f.name for f in fields]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params)
    values = {f.name: SAMPLES[f.name] for f in fields}
    made = cls(**values)
    assert {f.name: getattr(made, f.name) for f in fields} == values
    assert made == cls(**values) and repr(made) == repr(cls(**values))
    if fields:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(made, fields[0].name, "other")


@pytest.mark.parametrize("cls", COMMANDS, ids=lambda cls: cls.__name__)
def test_the_defaults_are_the_dataclasss(cls: type[Any]) -> None:
    required = {
        f.name: SAMPLES[f.name]
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    made = cls(**required)
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            assert getattr(made, f.name) == f.default
        elif f.default_factory is not dataclasses.MISSING:
            assert getattr(made, f.name) == f.default_factory()


def test_contacts_without_attributes_do_not_share_one_dict() -> None:
    first, second = cmd.CreateContact(queue="q"), cmd.CreateContact(queue="q")
    assert first.attributes == {} and first.attributes is not second.attributes
