"""Per-queue recording: the WAV on disk, its metadata, the contact and history links, REST."""

from __future__ import annotations

import asyncio
import hashlib
import io
import wave
from array import array
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from recording_signal import amplitude_at, tone_packets

from ivr.media.audio import tone
from ivr.media.endpoint import MediaEndpoint, bridge
from ivr.media.player import Player
from ringway.recordings import RecordingSession
from router.errors import UnknownContact

if TYPE_CHECKING:
    from conftest import Api, Run, Serve

CUSTOMER_ID = "cust-1005"


def speak(session: RecordingSession, seconds: float) -> None:
    """Feed `seconds` of caller (440 Hz, in) and agent (1 kHz, out) audio as RTP."""
    frames = int(seconds * 50)
    caller = tone_packets(440, frames, ssrc=1, ts0=5000)
    agent = tone_packets(1000, frames, ssrc=2, ts0=77)
    for inbound, outbound in zip(caller, agent, strict=True):
        session.recorder.feed_packet("in", inbound)
        session.recorder.feed_packet("out", outbound)


def wav_of(data: bytes) -> tuple[int, int, float, array[int]]:
    with wave.open(io.BytesIO(data), "rb") as reader:
        channels, rate = reader.getnchannels(), reader.getframerate()
        frames = reader.getnframes()
        samples = array("h", reader.readframes(frames))
    return channels, rate, frames / rate, samples


async def stereo_call(api: Api) -> None:
    cid = await api.connected_call("support")
    recordings = api.calls.recordings
    assert recordings.policy("support").announcement == "call_recorded"
    session = recordings.start(contact_id=cid, call_id="call-1@test", started_at=1_800_000_000.0)
    assert session is not None
    speak(session, 2.0)
    meta = await recordings.finish(session, ended_at=1_800_000_002.5)
    assert (meta.contact_id, meta.queue, meta.agent_id) == (cid, "support", "alice")
    assert meta.customer_id == CUSTOMER_ID and meta.call_id == "call-1@test"
    assert (meta.channels, meta.duration_s) == (2, 2.0)

    listed = await api.json("GET", f"/contacts/{cid}/recordings")
    assert [r["id"] for r in listed["recordings"]] == [meta.id]
    shown = listed["recordings"][0]
    assert shown["started_at"] == "2027-01-15T08:00:00+00:00"
    assert shown["format"] == "stereo" and shown["url"] == f"/api/v1/recordings/{meta.id}"

    response = await api.request("GET", f"/recordings/{meta.id}")
    assert response.headers["content-type"] == "audio/wav"
    assert hashlib.sha256(response.content).hexdigest() == meta.sha256 == shown["sha256"]
    channels, rate, seconds, samples = wav_of(response.content)
    assert (channels, rate, seconds) == (2, 8000, 2.0)
    left, right = samples[0::2], samples[1::2]
    assert amplitude_at(left, 440) > 6000 and amplitude_at(left, 1000) < 100
    assert amplitude_at(right, 1000) > 6000 and amplitude_at(right, 440) < 100
    # stored under the configured directory, by day
    path = api.calls.recordings.store.file_of(meta)
    assert path.read_bytes() == response.content
    assert path.relative_to(api.calls.recordings.store.directory).as_posix() == (
        f"2027/01/15/{meta.id}.wav"
    )

    # the customer's history entry for the call names the recording
    await api.json("POST", f"/contacts/{cid}/end", "sam")
    body = {"disposition": "resolved", "notes": "refund explained"}
    await api.json("POST", f"/agents/alice/contacts/{cid}/complete", "alice", json=body)
    history = await api.json("GET", f"/customers/{CUSTOMER_ID}/history", "sam")
    entry = next(i for i in history["interactions"] if i["contact_id"] == cid)
    assert (
        entry["notes"] == f"refund explained\n\nRecording {meta.id}: /api/v1/recordings/{meta.id}"
    )
    by_customer = await api.json("GET", f"/customers/{CUSTOMER_ID}/recordings")
    assert [r["id"] for r in by_customer["recordings"]] == [meta.id]


def test_a_recorded_queue_stores_a_stereo_wav_linked_to_contact_and_history(run_api: Run) -> None:
    run_api(stereo_call)


async def mono_and_unrecorded(api: Api) -> None:
    mono_contact = await api.connected_call("sales")
    session = api.calls.recordings.start(contact_id=mono_contact, call_id="call-2")
    assert session is not None
    speak(session, 1.0)
    meta = await api.calls.recordings.finish(session)
    audio = (await api.request("GET", f"/recordings/{meta.id}")).content
    channels, _, seconds, samples = wav_of(audio)
    assert (channels, seconds, meta.channels) == (1, 1.0, 1)
    assert amplitude_at(samples, 440) > 6000 and amplitude_at(samples, 1000) > 6000  # mixed

    await api.json("POST", f"/contacts/{mono_contact}/end", "sam")
    await api.json("POST", f"/agents/alice/contacts/{mono_contact}/complete", "alice", json={})
    plain = await api.connected_call("plain")
    assert api.calls.recordings.start(contact_id=plain, call_id="call-3") is None
    assert api.calls.recordings.policy("plain").enabled is False
    assert (await api.json("GET", f"/contacts/{plain}/recordings"))["recordings"] == []


def test_mono_queues_mix_both_sides_and_unrecorded_queues_record_nothing(run_api: Run) -> None:
    run_api(mono_and_unrecorded)


async def errors_and_roles(api: Api) -> None:
    cid = await api.connected_call("support")
    session = api.calls.recordings.start(contact_id=cid, call_id="call-4")
    assert session is not None
    speak(session, 0.4)
    meta = await api.calls.recordings.finish(session)

    for who, status, code in [(None, 401, "unauthorized"), ("alice", 403, "forbidden")]:
        for path in (f"/contacts/{cid}/recordings", f"/recordings/{meta.id}"):
            refused = await api.json("GET", path, who, expect=status)
            assert refused["error"]["code"] == code
    admin = await api.request("GET", f"/recordings/{meta.id}", "admin")
    assert admin.headers["content-type"] == "audio/wav"

    unknown = await api.json("GET", "/contacts/c-nope/recordings", expect=404)
    assert unknown["error"]["code"] == "unknown_contact"
    missing = await api.json("GET", "/recordings/rec-nope", expect=404)
    assert missing["error"]["code"] == "unknown_recording"
    nobody = await api.json("GET", "/customers/cust-nope/recordings", expect=404)
    assert nobody["error"]["code"] == "not_found"

    other = api.calls.recordings.start(contact_id=cid, call_id="call-4b")
    assert other is not None
    erased = await api.calls.recordings.finish(other)
    refused = await api.json("DELETE", f"/recordings/{erased.id}", "sam", expect=403)
    assert refused["error"]["code"] == "forbidden"  # erasing is the admin's
    await api.json("DELETE", f"/recordings/{erased.id}", "admin", expect=204)
    assert not api.calls.recordings.store.file_of(erased).exists()
    again = await api.json("DELETE", f"/recordings/{erased.id}", "admin", expect=404)
    assert again["error"]["code"] == "unknown_recording"
    listed = await api.json("GET", f"/contacts/{cid}/recordings")
    assert [r["id"] for r in listed["recordings"]] == [meta.id]

    api.calls.recordings.store.file_of(meta).unlink()
    gone = await api.json("GET", f"/recordings/{meta.id}", expect=410)
    assert gone["error"]["code"] == "recording_file_missing"
    # the metadata is still listed: nothing vanishes silently
    listed = await api.json("GET", f"/contacts/{cid}/recordings")
    assert [r["id"] for r in listed["recordings"]] == [meta.id]

    with pytest.raises(UnknownContact):
        api.calls.recordings.start(contact_id="c-nope", call_id="x")


def test_recording_routes_are_for_supervisors_and_errors_are_json(run_api: Run) -> None:
    run_api(errors_and_roles)


def test_recordings_survive_a_restart(tmp_path: Path, serve: Serve) -> None:
    async def first() -> tuple[str, str]:
        async with serve(tmp_path) as api:
            cid = await api.connected_call("support")
            session = api.calls.recordings.start(contact_id=cid, call_id="call-5")
            assert session is not None
            speak(session, 0.2)
            meta = await api.calls.recordings.finish(session)
            return meta.id, meta.sha256

    async def second(rid: str, digest: str) -> None:
        async with serve(tmp_path) as api:
            response = await api.request("GET", f"/recordings/{rid}")
            assert hashlib.sha256(response.content).hexdigest() == digest

    rid, digest = asyncio.run(first())
    asyncio.run(second(rid, digest))
    assert (tmp_path / "calls.sqlite3").is_file() and (tmp_path / "recordings").is_dir()


async def recorded_over_udp(api: Api) -> None:
    """A bridged call over real sockets, recorded on the caller's leg as the driver does."""
    loop = asyncio.get_running_loop()

    async def endpoint() -> MediaEndpoint:
        _, ep = await loop.create_datagram_endpoint(MediaEndpoint, local_addr=("127.0.0.1", 0))
        return ep

    def where(ep: MediaEndpoint) -> tuple[str, int]:
        assert ep.transport is not None
        return ep.transport.get_extra_info("sockname")[:2]  # type: ignore[no-any-return]

    legs = {name: await endpoint() for name in ("caller", "agent")}
    phones = {name: await endpoint() for name in ("caller", "agent")}
    for name in legs:
        legs[name].remote, phones[name].remote = where(phones[name]), where(legs[name])
    bridge(legs["caller"], legs["agent"], ssrc_to_a=7, ssrc_to_b=8)
    cid = await api.connected_call("support")
    session = api.calls.recordings.start(contact_id=cid, call_id="udp-call")
    assert session is not None
    legs["caller"].recorder = session.recorder
    players = []
    for name, hz in (("caller", 440), ("agent", 1000)):
        player = Player(start=loop.time(), ssrc=len(players) + 100)
        player.play(tone(hz, 1000))  # one second each, then the phones fall silent
        players.append(loop.create_task(phones[name].run_player(player)))
    await asyncio.gather(*players)
    await asyncio.sleep(0.1)  # the last packets in flight
    legs["caller"].recorder = None
    meta = await api.calls.recordings.finish(session)
    for ep in [*legs.values(), *phones.values()]:
        assert ep.transport is not None
        ep.transport.close()

    channels, rate, seconds, samples = wav_of(
        (await api.request("GET", f"/recordings/{meta.id}")).content
    )
    assert (channels, rate) == (2, 8000)
    assert abs(seconds - 1.0) <= 0.021 and meta.duration_s == seconds  # RTP time, not wall time
    left, right = samples[0::2], samples[1::2]
    assert amplitude_at(left, 440) > 6000 and amplitude_at(left, 1000) < 100
    assert amplitude_at(right, 1000) > 6000 and amplitude_at(right, 440) < 100


def test_a_call_bridged_over_udp_is_recorded_on_the_caller_leg(run_api: Run) -> None:
    run_api(recorded_over_udp)
