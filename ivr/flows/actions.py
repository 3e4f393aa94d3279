"""What a `FlowRun` asks its driver to do (IVR-CONTRACT.md): small frozen commands.

The driver (call control) executes them in list order. `Route`, `OfferCallback`
and `Hangup` are terminal: after one of them the run is finished.

They are defined in `ivr.flows.run`, which the native build compiles: there they are
native classes, built and read from compiled code without CPython's attribute look-ups
(docs/native-build.md). Their fields, defaults and frozenness are the dataclasses'
(`tests/ivr_flows/test_flow_actions_native.py`).
"""

from __future__ import annotations

from ivr.flows.run import (
    TERMINAL,
    FlowAction,
    Hangup,
    OfferCallback,
    Play,
    Route,
    StopPlayback,
    new_route,
)

__all__ = [
    "TERMINAL",
    "FlowAction",
    "Hangup",
    "OfferCallback",
    "Play",
    "Route",
    "StopPlayback",
    "new_route",
]
