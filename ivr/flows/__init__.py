"""IVR flows as data: YAML flow files, validated with located errors, and a pure
interpreter (`FlowRun`) that call control drives over SIP/RTP (IVR-CONTRACT.md)."""

from __future__ import annotations

from pathlib import Path

from ivr.flows import actions
from ivr.flows.errors import FlowError
from ivr.flows.loader import load_flows, load_flows_text
from ivr.flows.model import Flow, FlowSet, Limits
from ivr.flows.run import FlowRun

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
