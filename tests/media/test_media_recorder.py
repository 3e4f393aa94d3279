"""Call recording to WAV, read back with the stdlib `wave` module."""

from __future__ import annotations

import io
import wave
from array import array

from ivr.media import g711
from ivr.media.recorder import Recorder
from ivr.media.rtp import RtpPacket


def frame(value: int, timestamp: int, payload_type: int = 0) -> RtpPacket:
    pcm = array("h", [value] * 160).tobytes()
    payload = g711.ulaw_encode(pcm) if payload_type == 0 else g711.alaw_encode(pcm)
    return RtpPacket(
        payload_type=payload_type,
        sequence=timestamp // 160,
        timestamp=timestamp,
        ssrc=1,
        payload=payload,
    )


def level(value: int, payload_type: int = 0) -> int:
    """What one sample reads back as after G.711 quantisation."""
    pcm = array("h", [value]).tobytes()
    if payload_type == 0:
        return array("h", g711.ulaw_decode(g711.ulaw_encode(pcm)))[0]
    return array("h", g711.alaw_decode(g711.alaw_encode(pcm)))[0]


def read(wav: bytes) -> tuple[int, int, int, array[int]]:
    with wave.open(io.BytesIO(wav), "rb") as reader:
        params = reader.getnchannels(), reader.getsampwidth(), reader.getframerate()
        return (*params, array("h", reader.readframes(reader.getnframes())))


def test_stereo_recording_places_each_direction_by_timestamp() -> None:
    recorder = Recorder()
    recorder.feed_packet("in", frame(1000, 50_000))
    recorder.feed_packet("in", frame(2000, 50_320))  # 50_160 lost → silence
    recorder.feed_packet("out", frame(-1000, 7, payload_type=8))
    recorder.feed_packet(
        "out",
        RtpPacket(payload_type=101, sequence=9, timestamp=7, ssrc=1, payload=b"\x01\x80\x00\xa0"),
    )
    channels, width, rate, samples = read(recorder.wav())
    assert (channels, width, rate) == (2, 2, 8000)
    left, right = samples[0::2], samples[1::2]
    assert len(left) == 480
    assert set(left[:160]) == {level(1000)} and set(left[160:320]) == {0}
    assert set(left[320:]) == {level(2000)}
    assert set(right[:160]) == {level(-1000, 8)} and set(right[160:]) == {0}


def test_reordered_packet_lands_in_place_and_earlier_than_first_is_dropped() -> None:
    recorder = Recorder()
    recorder.feed_packet("in", frame(100, 1000))
    recorder.feed_packet("in", frame(300, 1320))
    recorder.feed_packet("in", frame(200, 1160))
    recorder.feed_packet("in", frame(500, 840))
    _, _, _, samples = read(recorder.wav())
    assert [samples[2 * i] for i in (0, 160, 320)] == [level(v) for v in (100, 200, 300)]
    assert recorder.dropped == 1


def test_mixed_mono_sums_and_clips() -> None:
    recorder = Recorder(stereo=False)
    recorder.feed("in", array("h", [30000, 100]).tobytes(), 0)
    recorder.feed("out", array("h", [30000, -300, 5]).tobytes(), 99)
    channels, _, _, samples = read(recorder.wav())
    assert channels == 1 and list(samples) == [32767, -200, 5]
