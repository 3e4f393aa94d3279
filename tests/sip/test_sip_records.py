"""The SIP records whose `__init__` is written out (compiled by mypyc, not generated).

Each must take exactly the arguments `dataclass` would have generated, with the same
defaults, and set every field; a field added later without its `__init__` argument
fails here.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest

import router._native as native
from ivr.sip import actions, answer, message, offer_answer, sdp, transaction_states, values

RECORDS: list[type[Any]] = [
    actions.Peer,
    actions.SendMessage,
    actions.DeliverRequest,
    actions.DeliverResponse,
    actions.TransactionFailed,
    actions.AckTimeout,
    actions.Dropped,
    values.NameAddr,
    values.Via,
    values.CSeq,
    message.ParsedHead,
    transaction_states._Step,
    answer._Pending,
    offer_answer.LocalMedia,
    offer_answer.Negotiated,
    offer_answer.Answer,
    sdp.RtpMap,
    sdp.SessionDescription,
]


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


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: c.__name__)
def test_the_written_init_has_the_generated_signature(cls: type[Any]) -> None:
    try:
        ours = parameters(cls.__init__)
    except ValueError:  # compiled: mypyc keeps no signature; the pure run checks it
        pytest.skip("no signature on the compiled __init__")
    assert ours == parameters(generated(cls).__init__)


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: c.__name__)
def test_the_written_init_sets_every_field(cls: type[Any]) -> None:
    if native.native_enabled():  # compiled, the arguments' types are checked: no sentinels
        pytest.skip("checked by the pure run (RINGWAY_PURE=1)")
    sentinels = {f.name: object() for f in dataclasses.fields(cls)}
    positional = [sentinels[f.name] for f in dataclasses.fields(cls) if not f.kw_only]
    keywords = {f.name: sentinels[f.name] for f in dataclasses.fields(cls) if f.kw_only}
    record = cls(*positional, **keywords)
    assert {name: getattr(record, name) for name in sentinels} == sentinels
    assert dataclasses.replace(record) == record  # replace() goes through the same __init__


def test_frozen_records_stay_frozen() -> None:
    via = values.Via("UDP", "192.0.2.1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        via.host = "elsewhere"  # type: ignore[misc]
    assert hash(via) == hash(values.Via("UDP", "192.0.2.1")) and str(via) == "SIP/2.0/UDP 192.0.2.1"
