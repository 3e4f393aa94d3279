"""The compiled call path (docs/native-build.md): `ivr.calls.session`, `driver`, `media`
and `ports`, and the IVR's `ivr.flows.run`, load compiled in the test run, and a call's
session gives the same commands and the same detail record compiled and with
RINGWAY_PURE=1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import ivr.calls.b2bua
import ivr.calls.driver
import ivr.calls.events
import ivr.calls.media
import ivr.calls.ports
import ivr.calls.session
import ivr.flows.run
from router import _native as native

ROOT = Path(__file__).resolve().parents[2]

# One call through the demo IVR, every phase: a digit, queued, an agent failing, another
# answering, a transfer, the router's offer again, the caller hanging up while it rings.
_SCRIPT = """
import json, random, sys
from dataclasses import asdict
from ivr.calls import events as ce
import ivr.calls.session as module
import ivr.flows.run as flow_module
from ivr.calls.session import CallSession
from ivr.flows import DEMO_FLOWS, FlowRun, load_flows

flows = load_flows(DEMO_FLOWS)
run = FlowRun(flows, flows.entry_for("18005550101"), customer={"id": "c", "tier": "silver"},
              attributes={"cli": "+447700900456"}, rng=random.Random(7))
s = CallSession("call-1", run, cli="sip:+447700900456@trunk", dialed="18005550101")
steps = [s.start(0.0)]
for at, event in enumerate([
    ce.PromptFinished(), ce.DigitsCollected(digit="2"),
    ce.ContactQueued(contact_id="c-1", queue="billing"), ce.AgentOffered(agent_id="bob"),
    ce.AgentLegFailed(agent_id="bob", status=486), ce.AgentOffered(agent_id="ann"),
    ce.CallAnswered(agent_id="ann"), ce.Transferred(agent_id="ann", target="sales"),
    ce.AgentOffered(agent_id="cy"), ce.CallEnded(side="caller", reason="bye"),
    ce.CallAnswered(agent_id="cy"),
], start=1):
    steps.append(s.handle(event, float(at)))
    steps.append(s.on_timer(float(at) + 0.5))
out = [[type(c).__name__, asdict(c)] for step in steps for c in step]
print(json.dumps({"file": module.__file__, "flow_file": flow_module.__file__, "out": out},
                 default=str))
"""


def _run(pure: bool) -> dict[str, object]:
    env = {**os.environ, "RINGWAY_PURE": "1" if pure else "0"}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_the_test_run_uses_the_compiled_call_path() -> None:
    compiled = (ivr.calls.session, ivr.calls.driver, ivr.calls.media, ivr.calls.ports)
    for module in (*compiled, ivr.calls.b2bua, ivr.flows.run):
        assert native.is_compiled(module), f"{module.__name__} loaded from {module.__file__}"
    # The event and command records stay interpreted: `ringway` builds and reads them.
    assert not native.is_compiled(ivr.calls.events)


def test_a_call_gives_the_same_commands_and_record_compiled_and_interpreted() -> None:
    compiled, pure = _run(pure=False), _run(pure=True)
    assert str(compiled["file"]).endswith(".so") and str(pure["file"]).endswith(".py")
    assert str(compiled["flow_file"]).endswith(".so")
    assert str(pure["flow_file"]).endswith(".py")
    assert compiled["out"] == pure["out"]
    kinds = [kind for kind, _ in compiled["out"]]  # type: ignore[attr-defined]
    assert kinds[-2:] == ["WriteRecord", "HangUpAgent"]  # the late answer is hung up
    assert "Unbridge" in kinds and "RejectOffer" in kinds and "Announce" in kinds
