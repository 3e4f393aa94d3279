"""Paced G.711 playback with a fake clock (T15; RFC 3550 §5.1, RFC 3551 §4.1)."""

from __future__ import annotations

import io
import wave
from array import array
from pathlib import Path

import pytest

from ivr.media import g711
from ivr.media.audio import PromptLibrary, announcement, load_wav, silence, tone, write_wav
from ivr.media.errors import WavFormatError
from ivr.media.player import Player, encode_pcm

ONE_SECOND = tone(440, 1000)


def test_t15_one_second_is_50_packets_of_160_bytes() -> None:
    player = Player(start=0.0, ssrc=0x1234)
    player.play(ONE_SECOND)
    packets = player.handle_timer(10.0)
    assert len(packets) == 50
    assert {len(p.payload) for p in packets} == {160}
    assert [p.timestamp for p in packets] == list(range(0, 7841, 160))
    assert [p.sequence for p in packets] == list(range(50))
    assert [p.marker for p in packets] == [True] + [False] * 49
    assert {p.payload_type for p in packets} == {0} and {p.ssrc for p in packets} == {0x1234}
    assert b"".join(p.payload for p in packets) == g711.ulaw_encode(ONE_SECOND)
    assert player.next_deadline() is None


def test_pcm_is_encoded_once_per_law_and_gives_the_same_octets() -> None:
    """Every call played or held with the same PCM shares one encoding (the set-up of
    benchmarks/rtp_streams.py encoded a second of audio per stream)."""
    odd = ONE_SECOND + b"\x01"  # an odd trailing octet is dropped, as before
    for law, encode in (("PCMU", g711.ulaw_encode), ("PCMA", g711.alaw_encode)):
        first, second = Player(start=0.0, ssrc=1, codec=law), Player(start=0.0, ssrc=2, codec=law)
        assert first.encode(ONE_SECOND) == encode(ONE_SECOND)
        assert second.encode(bytes(ONE_SECOND)) is first.encode(ONE_SECOND)  # equal PCM: cached
        assert first.encode(odd) == encode(ONE_SECOND)
    assert encode_pcm("PCMU", ONE_SECOND) != encode_pcm("PCMA", ONE_SECOND)
    with pytest.raises(KeyError):
        Player(start=0.0, ssrc=1, codec="G722")


def test_pacing_follows_next_deadline_every_20_ms() -> None:
    player = Player(start=5.0, ssrc=1, codec="PCMA", sequence=65534, timestamp=2**32 - 160)
    player.play(silence(100))
    assert player.next_deadline() == 5.0
    assert player.handle_timer(4.999) == []
    times = []
    while (deadline := player.next_deadline()) is not None:
        times.append(deadline)
        (packet,) = player.handle_timer(deadline)
    assert times == pytest.approx([5.0, 5.02, 5.04, 5.06, 5.08])
    assert packet.payload_type == 8 and packet.payload == bytes([0xD5]) * 160
    assert packet.sequence == 2 and packet.timestamp == 480  # both wrapped


def test_late_driver_catches_up_without_skipping() -> None:
    player = Player(start=0.0, ssrc=1)
    player.play(silence(200))
    assert len(player.handle_timer(0.065)) == 4  # 0, 20, 40, 60 ms
    assert player.next_deadline() == pytest.approx(0.08)


def test_last_partial_frame_is_padded_with_silence() -> None:
    player = Player(start=0.0, ssrc=1)
    player.play(tone(1000, 25))  # 200 samples → 2 frames
    second = player.handle_timer(1.0)[1].payload
    assert len(second) == 160 and second[40:] == bytes([0xFF]) * 120


def test_music_on_hold_loops_and_announcement_interrupts_it() -> None:
    moh = tone(300, 60)  # 3 frames
    player = Player(start=0.0, ssrc=1)
    player.loop(moh)
    first = player.handle_timer(0.02)  # frames 0, 1 of the loop
    player.announce(tone(900, 40))  # inserted at the next frame boundary
    rest = player.handle_timer(0.02 * 9)
    payloads = [p.payload for p in first + rest]
    loop_frames = [g711.ulaw_encode(moh)[i : i + 160] for i in range(0, 480, 160)]
    announce_frames = [g711.ulaw_encode(tone(900, 40))[i : i + 160] for i in (0, 160)]
    assert payloads == [
        *loop_frames[:2],
        *announce_frames,
        loop_frames[2],
        *loop_frames,
        *loop_frames[:2],
    ]
    assert [p.sequence for p in first + rest] == list(range(10))
    player.loop(None)
    assert player.next_deadline() is None


def test_play_queues_after_announce_goes_first() -> None:
    player = Player(start=0.0, ssrc=1)
    player.play(tone(500, 20))
    player.announce(tone(700, 20))
    a, b = player.handle_timer(1.0)
    assert a.payload == g711.ulaw_encode(tone(700, 20)) and b.payload == g711.ulaw_encode(
        tone(500, 20)
    )


def test_new_talkspurt_after_idle_is_marked_and_timestamped_by_wall_clock() -> None:
    player = Player(start=0.0, ssrc=1)
    player.play(silence(40))
    player.handle_timer(1.0)  # 2 packets; idle from t = 0.04
    player.play(silence(20), now=3.0)
    assert player.next_deadline() == pytest.approx(3.0)
    (packet,) = player.handle_timer(3.0)
    assert packet.marker and packet.sequence == 2
    assert packet.timestamp == 320 + round((3.0 - 0.04) * 8000)


def test_position_announcement_is_sequenced_from_the_prompt_library(tmp_path: Path) -> None:
    (tmp_path / "minutes.wav").write_bytes(write_wav(tone(200, 100, rate=16000), rate=16000))
    library = PromptLibrary(tmp_path)
    names = announcement(position=3, wait_minutes=12)
    assert names == ["position", "digit_3", "expected_wait", "digit_1", "digit_2", "minutes"]
    player = Player(start=0.0, ssrc=1)
    for name in names:
        player.play(library.get(name))
    packets = player.handle_timer(100.0)
    assert len(packets) == 5 * 20 + 5  # five 400 ms synthesised tones + a 100 ms file
    assert library.get("minutes") == load_wav(write_wav(tone(200, 100, rate=16000), rate=16000))


def wav_bytes(frames: bytes, *, width: int, channels: int, rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(width)
        writer.setframerate(rate)
        writer.writeframes(frames)
    return buffer.getvalue()


def test_load_wav_converts_rate_width_and_channels() -> None:
    stereo16k = array("h", [1000, 3000] * 1600).tobytes()  # 100 ms at 16 kHz
    assert (
        load_wav(wav_bytes(stereo16k, width=2, channels=2, rate=16000))
        == array("h", [2000] * 800).tobytes()
    )
    unsigned8 = bytes([128 + 10] * 80)
    assert (
        load_wav(wav_bytes(unsigned8, width=1, channels=1, rate=8000))
        == array("h", [2560] * 80).tobytes()
    )
    with pytest.raises(WavFormatError, match="not a PCM WAV"):
        load_wav(b"RIFF....WAVEjunk")
    with pytest.raises(WavFormatError, match="sample width 3"):
        load_wav(wav_bytes(bytes(6), width=3, channels=1, rate=8000))
