"""The flow's actions (`ivr.flows.actions`, defined in the compiled `ivr.flows.run`)
write out their `__init__`: each takes every field by keyword with the dataclass's
defaults, sets every field, and makes the record the dataclass would (equal, same repr,
still frozen). Compiled, they are native classes; `ivr.flows.actions` names the very
same classes."""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import ivr.flows.actions as fa
import ivr.flows.run as run
from router import _native as native

ROOT = Path(__file__).resolve().parents[2]
ACTIONS = [fa.Play, fa.StopPlayback, fa.Route, fa.OfferCallback, fa.Hangup]
SAMPLES: dict[str, Any] = {
    "prompts": ("welcome", "menu"),
    "interruptible": True,
    "queue": "sales",
    "attributes": {"tier": "gold"},
    "priority": 3,
    "number": "+447700900456",
    "reason": "normal",
}


def interpreted() -> ModuleType:
    """`ivr.flows.run` from its source: compiled, a signature cannot be read."""
    name = "_interpreted_ivr_flows_run"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "ivr/flows/run.py")
        assert spec is not None and spec.loader is not None
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[name] = loaded
        spec.loader.exec_module(loaded)
    return sys.modules[name]


def test_every_action_is_covered_and_re_exported() -> None:
    assert len(ACTIONS) == len(run.FlowAction.__args__)
    for cls in ACTIONS:
        assert getattr(run, cls.__name__) is cls
    assert (fa.Route, fa.OfferCallback, fa.Hangup) == fa.TERMINAL


def test_the_actions_are_native_unless_pure() -> None:
    """The test run loads `ivr.flows.run` compiled (as `.py` under RINGWAY_PURE=1); a
    mypyc native class names its struct's fields in `__mypyc_attrs__`."""
    pure = os.environ.get("RINGWAY_PURE") == "1"
    assert native.is_compiled(run) != pure, run.__file__
    for cls in ACTIONS:
        assert hasattr(cls, "__mypyc_attrs__") != pure, cls


@pytest.mark.parametrize("cls", ACTIONS, ids=lambda cls: cls.__name__)
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


@pytest.mark.parametrize("cls", ACTIONS, ids=lambda cls: cls.__name__)
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


def test_routes_without_attributes_do_not_share_one_dict() -> None:
    first, second = fa.Route(queue="q"), fa.Route(queue="q")
    assert first.attributes == {} and first.attributes is not second.attributes


def test_new_route_is_the_keyword_constructor() -> None:
    attributes = {"cli": "+44"}
    made = fa.new_route("sales", attributes, 2)
    assert made == fa.Route(queue="sales", attributes=attributes, priority=2)
    assert made.attributes is attributes
