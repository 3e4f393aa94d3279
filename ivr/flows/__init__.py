"""IVR flows as data: YAML flow files, validated with located errors, and a pure
interpreter (`FlowRun`) that call control drives over SIP/RTP (IVR-CONTRACT.md)."""

from __future__ import annotations

from pathlib import Path

from router._native import use_native

use_native(__path__, __name__)  # `FlowRun` may load compiled (docs/native-build.md)

# (after the build is chosen: `run` may then load from it)
from ivr.flows import actions  # noqa: E402
from ivr.flows.errors import FlowError  # noqa: E402
from ivr.flows.loader import load_flows, load_flows_text  # noqa: E402
from ivr.flows.model import Flow, FlowSet, Limits  # noqa: E402
from ivr.flows.run import FlowRun  # noqa: E402

DEMO_FLOWS = Path(__file__).with_name("demo.yaml")

__all__ = [
    "DEMO_FLOWS",
    "Flow",
    "FlowError",
    "FlowRun",
    "FlowSet",
    "Limits",
    "actions",
    "load_flows",
    "load_flows_text",
]
