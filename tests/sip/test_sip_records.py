"""The SIP records whose `__init__` is written out (compiled by mypyc, not generated).

Each must take exactly the arguments `dataclass` would have generated, with the same
defaults, and set every field; a field added later without its `__init__` argument
fails here.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ivr.sip import values

ROOT = Path(__file__).resolve().parents[2]
RECORDS = [
    ("ivr.sip.actions", "Peer"),
    ("ivr.sip.actions", "DeliverRequest"),
    ("ivr.sip.actions", "DeliverResponse"),
    ("ivr.sip.actions", "TransactionFailed"),
    ("ivr.sip.actions", "AckTimeout"),
    ("ivr.sip.actions", "Dropped"),
    ("ivr.sip.values", "NameAddr"),
    ("ivr.sip.values", "Via"),
    ("ivr.sip.values", "CSeq"),
    ("ivr.sip.message", "ParsedHead"),
    ("ivr.sip.transaction_states", "_Step"),
    ("ivr.sip.answer", "_Pending"),
    ("ivr.sip.offer_answer", "LocalMedia"),
    ("ivr.sip.offer_answer", "Negotiated"),
    ("ivr.sip.offer_answer", "Answer"),
    ("ivr.sip.sdp", "RtpMap"),
    ("ivr.sip.sdp", "SessionDescription"),
]


@cache
def interpreted(module: str) -> ModuleType:
    """The module run from its source, whether or not the compiled build is loaded:
    compiled, a signature reads (*args, **kwargs) and arguments are type-checked."""
    name = "_interpreted_" + module.replace(".", "_")
    spec = importlib.util.spec_from_file_location(name, ROOT / (module.replace(".", "/") + ".py"))
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded  # dataclass reads the module's namespace
    spec.loader.exec_module(loaded)
    return loaded


def record(spec: tuple[str, str]) -> type[Any]:
    cls: type[Any] = getattr(interpreted(spec[0]), spec[1])
    return cls


def generated(cls: type[Any]) -> type[Any]:
    """The same fields through `dataclass`'s own `__init__`."""
    specs = [
        (f.name, Any, dataclasses.field(default=f.default, kw_only=f.kw_only))
        for f in dataclasses.fields(cls)
    ]
    return dataclasses.make_dataclass(f"Generated{cls.__name__}", specs)


def parameters(init: Any) -> list[tuple[str, Any, Any]]:
    params = list(inspect.signature(init).parameters.values())[1:]  # without self
    return [(p.name, p.kind, p.default) for p in params]


@pytest.mark.parametrize("spec", RECORDS, ids=lambda s: s[1])
def test_the_written_init_has_the_generated_signature(spec: tuple[str, str]) -> None:
    cls = record(spec)
    assert parameters(cls.__init__) == parameters(generated(cls).__init__)


@pytest.mark.parametrize("spec", RECORDS, ids=lambda s: s[1])
def test_the_written_init_sets_every_field(spec: tuple[str, str]) -> None:
    cls = record(spec)
    sentinels = {f.name: object() for f in dataclasses.fields(cls)}
    positional = [sentinels[f.name] for f in dataclasses.fields(cls) if not f.kw_only]
    keywords = {f.name: sentinels[f.name] for f in dataclasses.fields(cls) if f.kw_only}
    made = cls(*positional, **keywords)
    assert {name: getattr(made, name) for name in sentinels} == sentinels
    assert dataclasses.replace(made) == made  # replace() goes through the same __init__


def test_frozen_records_stay_frozen() -> None:
    via = values.Via("UDP", "192.0.2.1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        via.host = "elsewhere"  # type: ignore[misc]
    assert hash(via) == hash(values.Via("UDP", "192.0.2.1")) and str(via) == "SIP/2.0/UDP 192.0.2.1"
