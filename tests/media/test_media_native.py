"""The compiled playback path (docs/native-build.md): `ivr.media.endpoint`, `player` and
`clock` load compiled in the test run (as `.py` under RINGWAY_PURE=1), and a player gives
the same datagrams and deadlines compiled and interpreted."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import ivr.media.clock
import ivr.media.endpoint
import ivr.media.player

MODULES = (ivr.media.clock, ivr.media.endpoint, ivr.media.player)

# Prompts, an announcement over looping music, a late driver catching up, a new
# talkspurt after idling, both laws: every datagram's bytes and every deadline.
_SCRIPT = """
import hashlib, json
import ivr.media.clock, ivr.media.endpoint, ivr.media.player as module
from ivr.media.audio import tone
from ivr.media.player import Player

digest, deadlines = hashlib.sha256(), []
for codec in ("PCMU", "PCMA"):
    player = Player(start=1.0, ssrc=0xDEADBEEF, codec=codec, sequence=65530, timestamp=2**32 - 400)
    player.play(tone(1000, 130))
    player.loop(tone(425, 410))
    for now in (1.0, 1.05, 1.061, 1.3, 1.9):
        if now == 1.3:
            player.announce(tone(800, 90), now=now)
        for datagram in player.due_datagrams(now):
            digest.update(datagram)
        for packet in player.handle_timer(now + 0.01):
            digest.update(packet.serialize())
        deadlines.append(player.next_deadline())
    player.stop()
    player.play(tone(600, 50), now=5.0)
    for datagram in player.due_datagrams(5.1):
        digest.update(datagram)
files = [m.__file__ for m in (ivr.media.clock, ivr.media.endpoint, module)]
print(json.dumps({"files": files, "digest": digest.hexdigest(), "deadlines": deadlines}))
"""


def _run(pure: bool) -> dict[str, object]:
    env = {**os.environ, "RINGWAY_PURE": "1" if pure else "0"}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_the_playback_path_loads_compiled_unless_pure() -> None:
    pure = os.environ.get("RINGWAY_PURE") == "1"
    for module in MODULES:
        assert str(module.__file__).endswith(".py") == pure, module.__file__


def test_compiled_and_interpreted_players_send_the_same_bytes() -> None:
    compiled, interpreted = _run(pure=False), _run(pure=True)
    assert all(not str(f).endswith(".py") for f in compiled["files"])  # type: ignore[attr-defined]
    assert all(str(f).endswith(".py") for f in interpreted["files"])  # type: ignore[attr-defined]
    assert compiled["digest"] == interpreted["digest"]
    assert compiled["deadlines"] == interpreted["deadlines"]
