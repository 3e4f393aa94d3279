"""Prompts encoded once per G.711 law give the very packets encoding them per call did.

G.711 encodes each 16-bit sample to one octet with no state between samples
(ITU-T G.711 §2; RFC 3551 §4.5.14), so encoding prompts one by one and joining
the octets equals encoding their joined PCM, frame boundaries included, even
when a prompt's length is not a whole number of 20 ms frames.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ivr.calls.b2bua import B2bua
from ivr.calls.media import CallMedia
from ivr.media import g711
from ivr.media.audio import PromptLibrary, silence, tone, write_wav
from ivr.media.player import Player

# Odd lengths on purpose: 1,234 and 777 samples end mid-frame (a frame is 160).
ODD_PROMPTS = {"first": tone(440, 100)[: 2 * 1234], "second": tone(660, 100)[: 2 * 777]}


@pytest.fixture
def library(tmp_path: Path) -> PromptLibrary:
    for name, pcm in ODD_PROMPTS.items():
        (tmp_path / f"{name}.wav").write_bytes(write_wav(pcm))
    return PromptLibrary(tmp_path)


def packets(player: Player) -> list[bytes]:
    return [packet.serialize() for packet in player.handle_timer(60.0)]


@pytest.mark.parametrize("codec", ["PCMU", "PCMA"])
def test_encoded_prompts_play_the_packets_of_their_joined_pcm(
    library: PromptLibrary, codec: str
) -> None:
    names = ["first", "second", "first", "no_such_prompt"]  # the last falls back to a tone
    per_call = Player(start=0.0, ssrc=7, codec=codec)
    per_call.play(b"".join(library.get(name) for name in names))
    cached = Player(start=0.0, ssrc=7, codec=codec)
    cached.play_encoded(b"".join(library.encoded(name, codec) for name in names))
    assert packets(cached) == packets(per_call)
    assert library.encoded("first", codec) is library.encoded("first", codec)  # once


def test_an_announcement_interrupts_music_on_hold_as_before(library: PromptLibrary) -> None:
    hold = tone(330, 70) + silence(30)
    per_call, cached = Player(start=0.0, ssrc=9), Player(start=0.0, ssrc=9)
    per_call.loop(hold, now=0.0)
    per_call.announce(library.get("second"), now=0.0)
    cached.loop_encoded(g711.ulaw_encode(hold), now=0.0)
    cached.announce_encoded(library.encoded("second", "PCMU"), now=0.0)
    assert [p.serialize() for p in cached.handle_timer(1.0)] == [
        p.serialize() for p in per_call.handle_timer(1.0)
    ]


@pytest.mark.parametrize("codec", ["PCMU", "PCMA"])
def test_hold_music_is_encoded_once_per_law(codec: str) -> None:
    b2bua = B2bua(_NoCentre(), host="127.0.0.1", rng=random.Random(3))  # type: ignore[arg-type]
    music = b2bua.hold_music_in(codec)
    assert music == g711.ENCODERS[codec](b2bua.hold_music)
    assert b2bua.hold_music_in(codec) is music


def test_call_media_encodes_nothing_before_the_caller_is_connected(
    library: PromptLibrary,
) -> None:
    media = CallMedia("127.0.0.1", random.Random(4), library)
    assert media.caller.codec is None and media.encoded(["first"]) == b""


class _NoCentre:
    """B2bua reads nothing from its centre until a call arrives."""
