"""Calls end to end: sipp caller → SIP edge → demo IVR → router → sipp agent phone.

Real peers (sipp for the caller and the agent's phone, RFC 4733 digits from
sipp's own captures), the real service (router, CRM lookup, event log, REST).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from peer_kit import free_port, needs_sipp, tone_file, wait_for
from telephony_kit import (
    ANSWERING_PHONE_XML,
    BUSY_PHONE_XML,
    JAMES,
    RINGING_PHONE_XML,
    SAM_EXT,
    SAM_PW,
    Centre,
    answering_phone,
    baresip_phone,
    caller,
    caller_xml,
    needs_baresip,
    register_phone,
    running_centre,
    transferring_phone,
)

from ivr.transport import run

pytestmark = needs_sipp


def cdrs(centre: Centre) -> list[dict[str, Any]]:
    assert centre.bundle.telephony is not None
    return list(centre.bundle.telephony.centre.cdrs)


async def bob_ready(centre: Centre) -> None:
    agent = await centre.post("/agents/bob/login", {"ready": True})
    assert agent["agent"]["state"] == "ready"


async def events_of(centre: Centre, contact_id: str) -> list[dict[str, Any]]:
    page = await centre.get("/events?limit=1000")
    return [e for e in page["events"] if e.get("contact_id") == contact_id]


def test_call_routed_by_dtmf_is_bridged_to_the_agent_phone(tmp_path: Path) -> None:
    """Must-show 1: CLI → customer, RFC 4733 '2' → billing, bob's phone answers, RTP
    relayed both ways, the caller hangs up and both legs end cleanly."""

    async def main() -> None:
        async with running_centre(tmp_path) as centre:
            phone_port = free_port()
            await register_phone(tmp_path, centre, phone_port)
            phones = (await centre.get("/calls/phones"))["phones"]
            assert phones["1002"] == [f"sip:1002@127.0.0.1:{phone_port}"]
            await bob_ready(centre)
            phone = await answering_phone(tmp_path, phone_port, ANSWERING_PHONE_XML)
            media = tone_file(tmp_path, 1.5)
            call = await caller(tmp_path, centre, caller_xml(hold_ms=2500, media=str(media)))
            caller_result, phone_result = await call.result(), await phone.result()
            assert caller_result.code == 0, caller_result.output[-3000:]
            assert phone_result.code == 0, phone_result.output[-3000:]
            await wait_for(lambda: len(cdrs(centre)) == 1, what="the call detail record")
            record = cdrs(centre)[0]
            assert record["outcome"] == "completed"
            assert record["hangup_side"] == "caller"
            assert record["digits"] == "2" and record["dtmf_method"] == "rfc4733"
            assert record["agent_id"] == "bob" and record["queue"] == "billing"
            relayed = record["media"]
            assert relayed["caller_to_agent"] >= 50, relayed  # 1.5 s of 20 ms frames, most
            assert relayed["agent_to_caller"] >= 50, relayed  # the phone echoed them back

            contact = await centre.get(f"/contacts/{record['contact_id']}")
            assert contact["channel"] == "voice" and contact["queue"] == "billing"
            assert contact["origin"].endswith(JAMES) or JAMES in contact["origin"]
            assert contact["attributes"]["sip_call_id"] == record["call_id"]
            assert contact["attributes"]["ivr_choice"] == "billing"
            pop = contact["pop"]  # the screen-pop travelled with the contact
            assert "cust-1002" in str(pop) and "James Okafor" in str(pop)
            assert contact["customer_id"] == "cust-1002" and contact["tier"] == "silver"
            assert contact["agent_id"] == "bob"
            assert contact["status"] in ("wrap_up", "completed")
            assert contact["decisions"] and contact["decisions"][0]["chosen"] == "bob"
            kinds = [e["kind"] for e in await events_of(centre, record["contact_id"])]
            assert kinds[:3] == ["contact_queued", "contact_offered", "offer_accepted"]
            assert "contact_ended" in kinds
            done = {"disposition": "resolved", "notes": "billing question answered"}
            await centre.post(f"/agents/bob/contacts/{record['contact_id']}/complete", done)
            history = await centre.get("/customers/cust-1002/history")
            (interaction,) = history["interactions"]
            assert interaction["contact_id"] == record["contact_id"]
            assert interaction["channel"] == "voice" and interaction["agent_id"] == "bob"
            assert f"SIP call {record['call_id']}" in interaction["notes"]
            assert "billing question answered" in interaction["notes"]
            calls = await centre.get("/calls")
            assert calls["active"] == [] and calls["recent"][0]["call_id"] == record["call_id"]
            assert (await centre.get(f"/calls/{record['call_id']}"))["agent_id"] == "bob"

    run(main())


def test_unanswered_phone_is_rona_and_the_call_waits_again(tmp_path: Path) -> None:
    """Must-show 2: the phone rings past the offer timeout → the router's RONA (bob
    not-ready, reason rona), our INVITE is CANCELled (487 / ACK), the contact is
    back in its queue; once bob is ready again it is re-offered, and answered."""

    async def main() -> None:
        async with running_centre(tmp_path, offer_timeout_s=2.0) as centre:
            phone_port = free_port()
            await register_phone(tmp_path, centre, phone_port)
            await bob_ready(centre)
            phone = await answering_phone(tmp_path, phone_port, RINGING_PHONE_XML)
            call = await caller(tmp_path, centre, caller_xml(hold_ms=7000))
            phone_result = await phone.result()
            assert phone_result.code == 0, phone_result.output[-3000:]
            telephony = centre.bundle.telephony
            assert telephony is not None
            contact_id = next(iter(telephony.centre.by_contact))
            bob = await centre.get("/agents/bob")
            assert bob["state"] == "not_ready" and bob["reason"] == "rona"
            contact = await centre.get(f"/contacts/{contact_id}")
            assert contact["status"] == "queued" and contact["agent_id"] is None

            phone = await answering_phone(tmp_path, phone_port, ANSWERING_PHONE_XML)
            ready = await centre.post("/agents/bob/state", {"state": "ready"})
            assert ready["agent"]["state"] == "reserved"  # re-offered the waiting call at once
            assert (await phone.result()).code == 0
            caller_result = await call.result()
            assert caller_result.code == 0, caller_result.output[-3000:]
            await wait_for(lambda: len(cdrs(centre)) == 1, what="the call detail record")
            record = cdrs(centre)[0]
            assert record["outcome"] == "completed"
            assert record["ring_failures"] == ["bob: timeout"]
            assert record["agents_tried"] == ["bob", "bob"]
            events = await events_of(centre, contact_id)
            kinds = [e["kind"] for e in events]
            assert kinds[:3] == ["contact_queued", "contact_offered", "offer_rejected"]
            assert [e["reason"] for e in events if e["kind"] == "offer_rejected"] == ["timeout"]
            assert kinds.count("contact_offered") == 2 and "offer_accepted" in kinds

    run(main())


def test_busy_phone_is_rona_at_once(tmp_path: Path) -> None:
    """A 486 from the phone is the agent refusing: RONA without waiting for the timer."""

    async def main() -> None:
        async with running_centre(tmp_path, offer_timeout_s=20.0) as centre:
            phone_port = free_port()
            await register_phone(tmp_path, centre, phone_port)
            await bob_ready(centre)
            phone = await answering_phone(tmp_path, phone_port, BUSY_PHONE_XML)
            # held long enough for the IVR, the queue and the offer on a loaded machine:
            # at 2.5 s the caller once hung up before the phone was rung
            call = await caller(tmp_path, centre, caller_xml(hold_ms=5000))
            phone_result = await phone.result()
            assert phone_result.code == 0, phone_result.output[-3000:]
            await wait_for(lambda: cdrs(centre) != [], timeout=20, what="the caller's hang-up")
            assert (await call.result()).code == 0
            record = cdrs(centre)[0]
            assert record["ring_failures"] == ["bob: phone 486"]
            bob = await centre.get("/agents/bob")
            assert bob["state"] == "not_ready" and bob["reason"] == "rejected"
            events = await events_of(centre, record["contact_id"])
            assert [e["reason"] for e in events if e["kind"] == "offer_rejected"] == ["rejected"]

    run(main())


@pytest.mark.parametrize("transport", ["u1", "t1"])
def test_caller_abandons_while_queued(tmp_path: Path, transport: str) -> None:
    """Must-show 3: nobody can take billing; the caller (over UDP, or TCP) hears music
    and announcements, then hangs up: the router records the abandon, no call or
    offer is left behind."""

    async def main() -> None:
        async with running_centre(tmp_path, announce_every_s=1.0) as centre:
            scenario = caller_xml(hold_ms=3000)
            call = await caller(tmp_path, centre, scenario, transport=transport)
            result = await call.result()
            assert result.code == 0, result.output[-3000:]
            await wait_for(lambda: cdrs(centre) != [], what="the call detail record")
            record = cdrs(centre)[0]
            assert record["outcome"] == "abandoned_in_queue"
            assert record["announcements"] >= 2
            contact = await centre.get(f"/contacts/{record['contact_id']}")
            assert contact["status"] == "abandoned"
            telephony = centre.bundle.telephony
            assert telephony is not None
            assert telephony.b2bua.drivers == {} and telephony.centre.by_contact == {}
            assert not telephony.edge.users and not telephony.edge.calls
            assert record["media"]["caller_packets"] >= 5  # the DTMF reached us over RTP
            # prompts, then music on hold and announcements, 20 ms frames all along
            assert record["media"]["played_to_caller"] >= 150, record["media"]

    run(main())


def test_sip_info_digit_picks_the_queue(tmp_path: Path) -> None:
    """SIP INFO DTMF (application/dtmf-relay, answered 200) works like RFC 4733:
    '1' → sales; nobody is there, the caller leaves: abandoned in sales."""

    async def main() -> None:
        async with running_centre(tmp_path) as centre:
            call = await caller(tmp_path, centre, caller_xml(digit="1", info=True, hold_ms=1500))
            result = await call.result()
            assert result.code == 0, result.output[-3000:]
            await wait_for(lambda: cdrs(centre) != [], what="the call detail record")
            record = cdrs(centre)[0]
            assert record["digits"] == "1" and record["dtmf_method"] == "info"
            contact = await centre.get(f"/contacts/{record['contact_id']}")
            assert contact["queue"] == "sales" and contact["status"] == "abandoned"
            assert contact["attributes"]["ivr_choice"] == "sales"

    run(main())


def test_blind_transfer_by_refer_requeues_the_caller(tmp_path: Path) -> None:
    """The agent's phone REFERs the bridged call to queue sales (RFC 3515): 202, our
    NOTIFY (sipfrag 200) and BYE release bob; the caller waits in sales again."""

    async def main() -> None:
        async with running_centre(tmp_path) as centre:
            phone_port = free_port()
            await register_phone(tmp_path, centre, phone_port)
            await bob_ready(centre)
            phone = await transferring_phone(tmp_path, centre, phone_port, "sales")
            call = await caller(tmp_path, centre, caller_xml(hold_ms=4500))
            phone_result = await phone.result()
            assert phone_result.code == 0, phone_result.output[-3000:]
            caller_result = await call.result()
            assert caller_result.code == 0, caller_result.output[-3000:]
            await wait_for(lambda: cdrs(centre) != [], what="the call detail record")
            record = cdrs(centre)[0]
            assert record["transfers"] == ["bob -> sales"]
            assert record["outcome"] == "abandoned_in_queue"
            contact = await centre.get(f"/contacts/{record['contact_id']}")
            assert contact["queue"] == "sales" and contact["status"] == "abandoned"
            kinds = [e["kind"] for e in await events_of(centre, record["contact_id"])]
            assert "contact_transferred" in kinds and kinds[-1] == "contact_abandoned"
            bob = await centre.get("/agents/bob")
            assert bob["state"] != "busy", bob

    run(main())


def test_shutdown_hangs_up_and_records_the_abandon(tmp_path: Path) -> None:
    """Stopping the service with a caller queued: the caller gets our BYE, the router
    records the abandon, nothing is left in flight."""

    async def main() -> None:
        async with running_centre(tmp_path) as centre:
            call = await caller(tmp_path, centre, caller_xml(hold_ms=100, await_bye=True))
            telephony = centre.bundle.telephony
            assert telephony is not None
            await wait_for(lambda: telephony.centre.by_contact != {}, what="the queued call")
            contact_id = next(iter(telephony.centre.by_contact))
        result = await call.result()  # the lifespan is over: the service has stopped
        assert result.code == 0, result.output[-3000:]
        router = centre.bundle.service.router
        assert router.contact(contact_id).status.value == "abandoned"
        assert telephony.b2bua.drivers == {}
        assert cdrs(centre)[0]["hangup_reason"] == "shutdown"

    run(main())


def test_agent_without_a_registered_phone_is_rona_disconnected(tmp_path: Path) -> None:
    """bob is ready on the desktop but no phone is registered for 1002: the offer
    cannot ring anything, so it is a RONA (reason disconnected) at once."""

    async def main() -> None:
        async with running_centre(tmp_path, offer_timeout_s=20.0) as centre:
            await bob_ready(centre)
            call = await caller(tmp_path, centre, caller_xml(hold_ms=2000))
            assert (await call.result()).code == 0
            await wait_for(lambda: cdrs(centre) != [], what="the call detail record")
            record = cdrs(centre)[0]
            assert record["ring_failures"] == ["bob: phone 480"]
            bob = await centre.get("/agents/bob")
            assert bob["state"] == "not_ready" and bob["reason"] == "disconnected"

    run(main())


@needs_baresip
def test_call_bridged_to_a_baresip_softphone(tmp_path: Path) -> None:
    """A real softphone as the agent's phone: baresip registers with digest auth,
    auto-answers our INVITE and talks (its tone) while the caller streams audio."""

    async def main() -> None:
        async with running_centre(tmp_path) as centre, baresip_phone(tmp_path, centre) as log:
            telephony = centre.bundle.telephony
            assert telephony is not None
            registrar = telephony.registrar
            await wait_for(
                lambda: registrar.contacts_for("1002", telephony.edge.now()) != [],
                what=f"baresip to register (log: {log})",
            )
            await bob_ready(centre)
            media = tone_file(tmp_path, 1.5)
            call = await caller(tmp_path, centre, caller_xml(hold_ms=2500, media=str(media)))
            result = await call.result()
            assert result.code == 0, result.output[-3000:]
            await wait_for(lambda: cdrs(centre) != [], what="the call detail record")
            record = cdrs(centre)[0]
            assert record["outcome"] == "completed" and record["agent_id"] == "bob"
            relayed = record["media"]
            assert relayed["caller_to_agent"] >= 50, relayed
            assert relayed["agent_to_caller"] >= 100, relayed  # baresip talks all along
            assert (await centre.get("/agents/bob"))["state"] == "wrap_up"

    run(main())


def test_ending_the_contact_from_the_api_hangs_up_both_legs(tmp_path: Path) -> None:
    """A supervisor ends a bridged call's contact over REST: both phones get our BYE."""

    async def main() -> None:
        async with running_centre(tmp_path) as centre:
            phone_port = free_port()
            await register_phone(tmp_path, centre, phone_port)
            await bob_ready(centre)
            phone = await answering_phone(tmp_path, phone_port, ANSWERING_PHONE_XML)
            call = await caller(tmp_path, centre, caller_xml(hold_ms=100, await_bye=True))
            telephony = centre.bundle.telephony
            assert telephony is not None

            def bridged() -> bool:
                return any(d.phase.value == "bridged" for d in telephony.b2bua.drivers.values())

            await wait_for(bridged, what="the bridge")
            contact_id = next(iter(telephony.centre.by_contact))
            await centre.post(f"/contacts/{contact_id}/end")
            assert (await call.result()).code == 0
            assert (await phone.result()).code == 0
            await wait_for(lambda: cdrs(centre) != [], what="the call detail record")
            record = cdrs(centre)[0]
            assert record["hangup_side"] == "router" and record["outcome"] == "completed"
            assert (await centre.get(f"/contacts/{contact_id}"))["status"] == "wrap_up"

    run(main())


@pytest.mark.parametrize(("target", "status"), [("1001", 403), ("nowhere", 404)])
def test_refused_refer_keeps_the_call_bridged(tmp_path: Path, target: str, status: int) -> None:
    """REFER to alice's extension while she is logged out (the router refuses: 403) or
    to a name that is neither queue nor extension (404): bob keeps the caller."""

    async def main() -> None:
        async with running_centre(tmp_path) as centre:
            phone_port = free_port()
            await register_phone(tmp_path, centre, phone_port)
            await bob_ready(centre)
            phone = await transferring_phone(tmp_path, centre, phone_port, target, status)
            call = await caller(tmp_path, centre, caller_xml(hold_ms=3500))
            assert (await call.result()).code == 0
            phone_result = await phone.result()
            assert phone_result.code == 0, phone_result.output[-3000:]
            await wait_for(lambda: cdrs(centre) != [], what="the call detail record")
            record = cdrs(centre)[0]
            assert record["outcome"] == "completed" and "transfers" not in record
            assert record["hangup_side"] == "caller"

    run(main())


def test_recorded_queue_records_the_bridge_and_files_the_cdr(tmp_path: Path) -> None:
    """billing records (docs/recording.md): the bridge is recorded in stereo, the
    recording is linked to the contact, and the CDR store names it."""

    async def main() -> None:
        async with running_centre(tmp_path, record_billing=True) as centre:
            phone_port = free_port()
            await register_phone(tmp_path, centre, phone_port)
            await bob_ready(centre)
            phone = await answering_phone(tmp_path, phone_port, ANSWERING_PHONE_XML)
            media = tone_file(tmp_path, 1.5)
            call = await caller(tmp_path, centre, caller_xml(hold_ms=2500, media=str(media)))
            assert (await call.result()).code == 0
            assert (await phone.result()).code == 0
            await wait_for(lambda: cdrs(centre) != [], what="the call detail record")
            record = cdrs(centre)[0]
            contact_id = record["contact_id"]
            calls = centre.bundle.calls
            assert calls is not None

            async def filed() -> list[dict[str, Any]]:
                found = await centre.get("/cdrs?from=2000-01-01T00:00:00&to=2100-01-01T00:00:00")
                return list(found["cdrs"])

            deadline = asyncio.get_running_loop().time() + 10
            while not (rows := await filed()) and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.1)
            (row,) = rows
            assert row["call_id"] == record["call_id"] and row["contact_id"] == contact_id
            assert row["outcome"] == "answered" and row["agent_id"] == "bob"
            assert row["hangup_by"] == "caller" and row["cli"] == JAMES
            assert row["to"] == "18005550101" and row["start"] <= row["answer"]

            listed = await centre.get(f"/contacts/{contact_id}/recordings")
            (meta,) = listed["recordings"]
            assert row["recording_id"] == meta["id"] == record["recording_id"]
            assert meta["format"] == "stereo" and meta["agent_id"] == "bob"
            assert meta["duration_s"] >= 1.0, meta  # the streamed tone, both directions
            wav = await centre.client.get(meta["url"], headers=centre.headers)
            assert wav.status_code == 200 and wav.content[:4] == b"RIFF"

    run(main())


def test_supervisor_listens_then_barges_then_leaves(tmp_path: Path) -> None:
    """Monitoring (docs/recording.md): the supervisor's registered phone is rung and
    mixed into the bridged call, switches from listen to barge, is released with a BYE
    by DELETE; the call itself goes on and ends normally."""

    async def main() -> None:
        async with running_centre(tmp_path) as centre:
            phone_port, sam_port = free_port(), free_port()
            await register_phone(tmp_path, centre, phone_port)
            await register_phone(tmp_path, centre, sam_port, SAM_EXT, SAM_PW)
            await bob_ready(centre)
            phone = await answering_phone(tmp_path, phone_port, ANSWERING_PHONE_XML)
            sam = await answering_phone(tmp_path, sam_port, ANSWERING_PHONE_XML, name="sam")
            call = await caller(tmp_path, centre, caller_xml(hold_ms=5000))
            telephony = centre.bundle.telephony
            assert telephony is not None

            def bridged() -> bool:
                return any(d.phase.value == "bridged" for d in telephony.b2bua.drivers.values())

            await wait_for(bridged, what="the bridge")
            contact_id = next(iter(telephony.centre.by_contact))
            body = {"mode": "listen", "extension": SAM_EXT}
            started = await centre.post(f"/contacts/{contact_id}/monitor", body)
            assert started["monitor"]["mode"] == "listen"
            assert started["monitor"]["extension"] == SAM_EXT
            monitor = telephony.monitoring.monitors[contact_id]
            await asyncio.sleep(0.5)
            body["mode"] = "barge"
            switched = await centre.post(f"/contacts/{contact_id}/monitor", body)
            assert switched["monitor"]["mode"] == "barge"
            assert monitor.conference.mode.value == "barge"
            await asyncio.sleep(0.5)
            assert monitor.conference.mixer is not None
            # the mix reached sam's phone, which echoes RTP: it came back on sam's leg
            assert monitor.leg.endpoint.received >= 20, monitor.leg.endpoint.received
            gone = await centre.client.delete(
                f"/api/v1/contacts/{contact_id}/monitor", headers=centre.headers
            )
            assert gone.status_code == 204
            assert telephony.monitoring.monitors == {}
            assert (await sam.result()).code == 0  # BYE'd and answered 200
            again = await centre.client.delete(
                f"/api/v1/contacts/{contact_id}/monitor", headers=centre.headers
            )
            assert again.status_code == 404 and again.json()["error"]["code"] == "not_monitored"
            assert (await call.result()).code == 0
            assert (await phone.result()).code == 0
            await wait_for(lambda: cdrs(centre) != [], what="the call detail record")
            assert cdrs(centre)[0]["outcome"] == "completed"

    run(main())
