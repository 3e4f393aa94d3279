"""Prompts are spoken at build time (scripts/make-prompts.sh), never committed.

These tests run the real script (espeak-ng + sox, installed by
scripts/install-peers.sh) and decode what it wrote.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import wave
from array import array
from pathlib import Path

from ivr.flows import DEMO_FLOWS, load_flows
from ivr.flows.prompts import CATALOGUE, read_catalogue
from ivr.media.audio import PROMPT_DIR, RATE, PromptLibrary, announcement

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "make-prompts.sh"
FRAME = RATE // 50  # 20 ms, one RTP packet of G.711 (RFC 3551 §4.5.14)


def make_prompts(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT)], env={**os.environ, **env}, capture_output=True, text=True, check=True
    )


def frame_levels(path: Path) -> list[float]:
    """RMS level of every 20 ms frame of an 8 kHz mono 16-bit WAV (asserted here)."""
    with wave.open(str(path), "rb") as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (RATE, 1, 2)
        samples = array("h", reader.readframes(reader.getnframes()))
    return [
        math.sqrt(sum(s * s for s in samples[i : i + FRAME]) / FRAME)
        for i in range(0, len(samples) - FRAME + 1, FRAME)
    ]


def assert_speech(path: Path) -> None:
    levels = frame_levels(path)
    assert len(levels) >= 10, f"{path.name}: under 200 ms"
    loud = [level for level in levels if level > 300]
    assert len(loud) >= 5, f"{path.name}: (nearly) silent"
    # Speech rises and falls (syllables, pauses); a steady tone would not.
    mean = sum(loud) / len(loud)
    spread = math.sqrt(sum((level - mean) ** 2 for level in loud) / len(loud))
    assert spread / mean > 0.15, f"{path.name}: level too steady to be speech"


def test_every_catalogue_prompt_is_generated_as_8khz_speech() -> None:
    make_prompts()  # what scripts/install-peers.sh (make test / make peers) runs
    names = read_catalogue()
    assert len(names) >= 20
    for name in names:
        assert_speech(PROMPT_DIR / f"{name}.wav")


def test_the_demo_flow_and_queue_announcements_only_use_catalogue_prompts() -> None:
    catalogue = set(read_catalogue())
    flows = load_flows(DEMO_FLOWS)  # the loader checks demo prompts against the catalogue
    used = {
        prompt
        for flow in flows.flows.values()
        for node in flow.nodes.values()
        for _, prompt in node.prompt_refs()
    }
    assert {"welcome", "menu_main", "invalid_choice", "no_input"} <= used <= catalogue
    assert set(announcement(1234567890, 5)) <= catalogue


def test_prompt_library_loads_the_generated_speech_not_the_fallback_tone() -> None:
    make_prompts()
    spoken = PromptLibrary().get("menu_main")
    fallback = PromptLibrary(Path("/nonexistent")).get("menu_main")
    assert len(spoken) > 8 * len(fallback)  # seconds of speech vs a 400 ms tone


def test_make_prompts_is_idempotent_and_remakes_after_a_catalogue_change(
    tmp_path: Path,
) -> None:
    catalogue = tmp_path / "catalog.txt"
    catalogue.write_text("# test\nhello|Hello there.\nbye|Goodbye now.\n")
    env = {"PROMPT_DIR": str(tmp_path / "out"), "PROMPT_CATALOG": str(catalogue)}
    assert "2 prompt(s) made" in make_prompts(**env).stderr
    hello = tmp_path / "out" / "hello.wav"
    assert_speech(hello)
    before = hello.stat().st_mtime_ns
    assert "0 prompt(s) made" in make_prompts(**env).stderr
    assert hello.stat().st_mtime_ns == before
    os.utime(catalogue, ns=(before + 10**9, before + 10**9))  # an edited catalogue
    assert "2 prompt(s) made" in make_prompts(**env).stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["bye.wav", "hello.wav"]


def test_make_prompts_rejects_a_bad_catalogue_line(tmp_path: Path) -> None:
    catalogue = tmp_path / "catalog.txt"
    catalogue.write_text("Bad Name|Hello\n")
    result = subprocess.run(
        [str(SCRIPT)],
        env={**os.environ, "PROMPT_DIR": str(tmp_path), "PROMPT_CATALOG": str(catalogue)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "bad line for 'BadName'" in result.stderr


def test_generated_prompts_are_not_tracked_by_git() -> None:
    assert shutil.which("git") is not None
    make_prompts()
    ignored = subprocess.run(
        ["git", "check-ignore", str(PROMPT_DIR / "welcome.wav")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert ignored.returncode == 0, "generated WAVs must be git-ignored"
    assert CATALOGUE.is_file()
