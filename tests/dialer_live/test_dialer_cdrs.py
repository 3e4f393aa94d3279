"""Dialled calls as call detail records: one per attempt that got a line.

Real peers: sipp as the carrier (answers with a tone, or says busy) and as
alice's registered phone; the records are read back over REST (the CDR store
and the recent-calls list) and from the customer's history.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from dialer_kit import CALLER_ID, CAMPAIGN, Centre, carrier, rejecting, running_centre, talking
from peer_kit import free_port, needs_sipp, tone_file, wait_for
from test_dialer_bridge import CUSTOMER, ENV, PHONE_HANGS_UP_XML, register_alice, telephony_port

from crm.model import Customer
from dialer.campaign import load_campaign_text

pytestmark = needs_sipp
EVER = {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}


async def cdrs(centre: Centre, count: int) -> list[dict[str, Any]]:
    """The CDR store's records once ``count`` are filed (over REST)."""
    found: list[dict[str, Any]] = []

    async def poll() -> None:
        for _ in range(200):
            body = await centre.call("GET", "/cdrs", params=EVER)
            found[:] = body["cdrs"]
            if len(found) >= count:
                return
            await asyncio.sleep(0.05)

    await poll()
    assert len(found) == count, found
    return found


async def start(centre: Centre, campaign: str = CAMPAIGN) -> None:
    await centre.bundle.service.customers.create(
        Customer(id="cust-ann", name="Ann Archer", phones=(CUSTOMER,))
    )
    dialer = centre.dialer
    dialer.add_campaign(load_campaign_text(campaign, "spring.yaml"))
    report = dialer.import_list("spring", f"id,phone,name\nlead-1,{CUSTOMER},Ann\n")
    assert len(report.accepted) == 1
    await centre.call("POST", "/agents/alice/login", json={"ready": True})
    dialer.start_campaign("spring")


def test_answered_and_bridged_call_files_an_outbound_cdr(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_centre(tmp_path, env=ENV) as centre:
            phone_port = free_port()
            await register_alice(tmp_path, centre, phone_port)
            edge = f"127.0.0.1:{telephony_port(centre)}"
            phone = await carrier(
                tmp_path, "phone", PHONE_HANGS_UP_XML, port=phone_port, args=(edge,)
            )
            media = tone_file(tmp_path, 2.0)
            line = await carrier(
                tmp_path, "carrier", talking(media, 2000), port=centre.trunk_port, echo=False
            )
            try:
                await start(centre)
                assert (await phone.result())[0] == 0
                assert (await line.result())[0] == 0
                (cdr,) = await cdrs(centre, 1)
                assert cdr["direction"] == "outbound"
                assert (cdr["outcome"], cdr["to"], cdr["cli"]) == ("answered", CUSTOMER, CALLER_ID)
                assert cdr["agent_id"] == "alice" and cdr["hangup_by"] == "agent"  # phone's BYE
                assert cdr["start"] <= cdr["answer"] <= cdr["connected"] <= cdr["end"]
                assert cdr["queue"] == "outbound-sales" and cdr["customer_id"] == "cust-ann"
                assert f"INVITE sip:{CUSTOMER}@" in line.seen()
                assert f"Call-ID: {cdr['call_id']}" in line.seen()  # the carrier's own call
                dialer = cdr["dialer"]
                assert (dialer["campaign"], dialer["lead_id"]) == ("spring", "lead-1")
                assert dialer["proof_id"] == dialer["attempt_id"]
                assert dialer["sip_status"] == 200 and 0 <= dialer["ring_s"] < 3
                assert dialer["rtp"]["caller_to_agent"] >= 50, dialer  # 2 s of tone
                assert dialer["rtp"]["agent_to_caller"] >= 50, dialer  # the phone's echo
                proofs = centre.dialer.store.proofs(CUSTOMER)
                assert dialer["proof_id"] in [p["attempt_id"] for p in proofs]  # the proof
                calls = await centre.call("GET", "/calls")
                outbound = [c for c in calls["recent"] if c.get("direction") == "outbound"]
                assert [c["call_id"] for c in outbound] == [cdr["call_id"]]

                # alice completes it: the customer's history carries the call's summary
                contact_id = cdr["contact_id"]
                await wait_for(lambda: _state(centre, "alice") == "wrap_up", 5, "wrap-up")
                path = f"/agents/alice/contacts/{contact_id}/complete"
                await centre.call("POST", path, json={"disposition": "sale"})
                history = await _history(centre, 1)
                assert history[0]["contact_id"] == contact_id
                assert f"Dialled call {cdr['call_id']} to {CUSTOMER}" in history[0]["notes"]
                (cdr,) = await cdrs(centre, 1)
                assert cdr["disposition"] == "sale"  # filled in at the completion
                await centre.dialer.stop_campaign("spring")
            finally:
                await phone.stop()
                await line.stop()

    asyncio.run(main())


def test_busy_attempt_files_a_cdr_and_a_history_note(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_centre(tmp_path) as centre:
            line = await carrier(
                tmp_path, "busy", rejecting("486 Busy Here"), port=centre.trunk_port
            )
            try:
                await start(centre)
                assert (await line.result())[0] == 0
                (cdr,) = await cdrs(centre, 1)
                assert cdr["direction"] == "outbound" and cdr["outcome"] == "busy"
                assert (cdr["to"], cdr["cli"]) == (CUSTOMER, CALLER_ID)
                assert cdr["answer"] is None and cdr["connected"] is None
                assert cdr["agent_id"] is None and cdr["hangup_by"] == "customer"
                assert cdr["dialer"]["sip_status"] == 486
                assert cdr["dialer"]["rtp"] == {"caller_to_agent": 0, "agent_to_caller": 0}
                assert f"Call-ID: {cdr['call_id']}" in line.seen()
                history = await _history(centre, 1)
                assert history[0]["direction"] == "outbound"
                assert history[0]["disposition"] == "dialer: busy"
                assert "outcome: busy" in history[0]["notes"]
                await centre.dialer.stop_campaign("spring")
            finally:
                await line.stop()

    asyncio.run(main())


def _state(centre: Centre, agent: str) -> str:
    return centre.bundle.service.router.agent(agent).state.value


async def _history(centre: Centre, count: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for _ in range(100):
        body = await centre.call("GET", "/customers/cust-ann/history")
        found = body["interactions"]
        if len(found) >= count:
            break
        await asyncio.sleep(0.05)
    assert len(found) == count, found
    return found
