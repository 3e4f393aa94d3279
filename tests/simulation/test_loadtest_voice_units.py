"""The voice driver's parts: IVR key paths, caller numbers, SIP passwords, digest
REGISTER against Ringway's own registrar (real UDP), the voice stages' summaries."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from crm.demo import demo_customers
from ivr.edge import SipEdge
from ivr.flows import load_flows_text
from simulation.loadtest.access import passwords
from simulation.loadtest.errors import LoadTestError
from simulation.loadtest.ivrpath import queue_routes, shortest_digits
from simulation.loadtest.ledger import Ledger, channel_summary
from simulation.loadtest.sipua import LoadEdge, register
from simulation.loadtest.voice import caller_number

FLOWS = """
entries: {"*": main}
flows:
  main:
    start: hello
    nodes:
      hello: {type: play, prompts: welcome, next: who}
      who: {type: branch, by: customer.tier, cases: {gold: vip}, default: menu}
      vip: {type: route, queue: gold}
      menu:
        type: menu
        prompts: menu_main
        choices: {"1": sales, "2": more, "7": ab}
        fallback: sales
      more:
        type: menu
        prompts: menu_main
        choices: {"4": billing}
        fallback: sales
      ab: {type: split, weights: {billing: 1, sales: 1}}
      sales: {type: route, queue: sales}
      billing: {type: route, queue: billing}
"""


def test_key_paths_through_the_demo_ivr() -> None:
    routes = queue_routes(None, {"sales": "ringway", "billing": "+18005550101", "support": "x"})
    assert {q: (r.dialed, r.digits) for q, r in routes.items()} == {
        "sales": ("ringway", "1"),
        "billing": ("+18005550101", "2"),
        "support": ("x", "3"),
    }


def test_key_paths_take_defaults_and_avoid_random_splits() -> None:
    flow = load_flows_text(FLOWS, "f.yaml").flow("main")
    assert shortest_digits(flow, "sales") == "1"
    assert shortest_digits(flow, "billing") == "24"  # not "7": a split is not steerable
    assert shortest_digits(flow, "gold") is None  # only a known gold caller gets there


def test_unreachable_queue_and_bad_flow_file_are_bad_input(tmp_path: Path) -> None:
    with pytest.raises(LoadTestError, match="voice queue backoffice: the IVR"):
        queue_routes(None, {"backoffice": "ringway"})
    with pytest.raises(LoadTestError, match=r"--ivr .*nope\.yaml"):
        queue_routes(tmp_path / "nope.yaml", {"sales": "ringway"})


def test_callers_are_never_demo_customers() -> None:
    known = {phone for customer in demo_customers() for phone in customer.phones}
    numbers = {caller_number(n) for n in range(2000)}
    drama_range = {n for n in known if n.startswith("+447700900")}
    assert len(drama_range) == 3 and not numbers & known
    assert len(numbers) == 1000 - len(drama_range)  # the rest of the range, all used
    assert all(n.startswith("+447700900") for n in numbers)


def test_sip_password_from_the_credentials_file(tmp_path: Path) -> None:
    creds = tmp_path / "c.json"
    creds.write_text(json.dumps({"a1": "one", "a2": {"password": "desk", "sip_password": "ph"}}))
    desktop = passwords(creds, None)
    phone = passwords(creds, None, field="sip_password")
    assert (desktop("a1"), phone("a1")) == ("one", "one")
    assert (desktop("a2"), phone("a2")) == ("desk", "ph")
    shared = passwords(None, "PW", {"PW": "s"}, field="sip_password")
    assert shared("anyone") == "s"


def test_register_with_digest_against_ringways_registrar() -> None:
    async def main() -> tuple[int, int, list[str], list[str]]:
        server = SipEdge("127.0.0.1", 0, {"2101": "secret"})
        await server.start()
        phone = LoadEdge("127.0.0.1")
        await phone.start()
        try:
            registrar = ("127.0.0.1", server.port)
            good = await register(phone, registrar, "2101", "secret")
            now = asyncio.get_running_loop().time()
            bound = server.registrar.contacts_for("2101", now)
            bad = await register(phone, registrar, "2101", "wrong")
            await register(phone, registrar, "2101", "secret", expires=0)
            left = server.registrar.contacts_for("2101", now)
            return good.status, bad.status, bound, left
        finally:
            await phone.stop()
            await server.stop()

    good, bad, bound, left = asyncio.run(main())
    assert good == 200 and bad in (401, 403)
    assert len(bound) == 1 and bound[0].startswith("sip:2101@127.0.0.1:")
    assert left == []  # Expires 0 removed our binding


def test_voice_stages_are_summarised() -> None:
    ledger = Ledger()
    ledger.created("voice", "c1", "billing", at=10.0)
    ledger.measure("voice", "c1", "invite_to_answer", 0.02)
    ledger.entered("voice", "c1", at=10.5)
    ledger.offered("voice", "c1", at=10.56)
    ledger.measure("voice", "c1", "queue_to_ring", 0.03)
    ledger.handled("voice", "c1", at=20.0)
    row = channel_summary(ledger.ours(), scheduled=1, window_s=60.0)
    assert row["invite_to_answer_ms"]["p50"] == pytest.approx(20.0)
    assert row["queue_to_ring_ms"]["p50"] == pytest.approx(30.0)
    assert row["entry_to_offer_ms"]["p50"] == pytest.approx(60.0)
    assert row["latency_ms"]["p50"] == pytest.approx(560.0)
