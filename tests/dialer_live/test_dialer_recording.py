"""A recorded campaign's dialled call: announced, recorded, linked like an inbound one.

Real peers: sipp as the carrier (answers and sends a tone) and as alice's
registered phone (answers, echoes, hangs up); the WAV is fetched over REST
and read back with the `wave` module.
"""

from __future__ import annotations

import asyncio
import io
import wave
from array import array
from datetime import datetime
from pathlib import Path

from dialer_kit import CAMPAIGN, Centre, carrier, running_centre, talking
from peer_kit import free_port, needs_sipp, tone_file, wait_for
from test_dialer_bridge import ENV, PHONE_HANGS_UP_XML, register_alice, telephony_port
from test_dialer_cdrs import cdrs, start

from dialer.campaign import load_campaign_text

pytestmark = needs_sipp
RECORDED = CAMPAIGN + "recording: {enabled: true, announcement: connecting, format: stereo}\n"
ANNOUNCEMENT_S = 2.4  # ivr/media/prompts/connecting.wav
# alice's phone stays on past the announcement and the customer's 5 s of tone
PHONE_XML = PHONE_HANGS_UP_XML.replace('milliseconds="3500"', 'milliseconds="6500"')


def test_recorded_campaign_call_has_a_wav_linked_to_its_cdr(tmp_path: Path) -> None:
    async def main() -> None:
        async with running_centre(tmp_path, env=ENV) as centre:
            phone_port = free_port()
            await register_alice(tmp_path, centre, phone_port)
            edge = f"127.0.0.1:{telephony_port(centre)}"
            phone = await carrier(tmp_path, "phone", PHONE_XML, port=phone_port, args=(edge,))
            media = tone_file(tmp_path, 5.0)
            line = await carrier(
                tmp_path, "carrier", talking(media, 5000), port=centre.trunk_port, echo=False
            )
            try:
                await start(centre, RECORDED)
                assert (await phone.result())[0] == 0
                assert (await line.result())[0] == 0
                (cdr,) = await cdrs(centre, 1)
                recording_id = cdr["recording_id"]
                assert recording_id is not None and recording_id.startswith("rec-")
                # the customer heard the announcement before the relay (and recorder) began
                answered, bridged = _at(cdr["answer"]), _at(cdr["connected"])
                assert bridged - answered >= ANNOUNCEMENT_S - 0.1, cdr

                listed = await centre.call("GET", f"/contacts/{cdr['contact_id']}/recordings")
                (meta,) = listed["recordings"]
                assert meta["id"] == recording_id and meta["call_id"] == cdr["call_id"]
                assert meta["agent_id"] == "alice" and meta["customer_id"] == "cust-ann"
                assert meta["queue"] == "outbound-sales" and meta["channels"] == 2
                response = await centre.client.get(
                    f"/api/v1/recordings/{recording_id}", headers=centre.headers
                )
                assert response.status_code == 200
                with wave.open(io.BytesIO(response.content)) as wav:
                    assert (wav.getnchannels(), wav.getframerate()) == (2, 8000)
                    seconds = wav.getnframes() / 8000
                    samples = array("h", wav.readframes(wav.getnframes()))
                assert 2.0 < seconds < 6.0, seconds  # the bridge, not the announcement
                left, right = samples[0::2], samples[1::2]
                assert max(abs(x) for x in left) > 1000  # the customer's tone
                assert max(abs(x) for x in right) > 1000  # the phone's echo of it

                contact_id = cdr["contact_id"]
                await wait_for(lambda: _state(centre) == "wrap_up", 5, "wrap-up")
                await centre.call("POST", f"/agents/alice/contacts/{contact_id}/complete")
                history = await _history(centre)
                assert f"Recording {recording_id}: /api/v1/recordings/{recording_id}" in history
                assert f"recording: {recording_id}" in history  # the call's own summary
                await centre.dialer.stop_campaign("spring")
            finally:
                await phone.stop()
                await line.stop()

    asyncio.run(main())


def test_a_campaign_without_recording_records_nothing(tmp_path: Path) -> None:
    campaign = load_campaign_text(CAMPAIGN, "spring.yaml")
    assert campaign.recording.enabled is False  # the key is optional: old files load as before
    recorded = load_campaign_text(RECORDED, "spring.yaml")
    assert (recorded.recording.enabled, recorded.recording.announcement) == (True, "connecting")


def _at(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _state(centre: Centre) -> str:
    return str(centre.bundle.service.router.agent("alice").state.value)


async def _history(centre: Centre) -> str:
    for _ in range(100):
        body = await centre.call("GET", "/customers/cust-ann/history")
        if body["interactions"]:
            return str(body["interactions"][0]["notes"])
        await asyncio.sleep(0.05)
    raise AssertionError("no history entry")
