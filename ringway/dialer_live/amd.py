"""Answering-machine detection from the first seconds of an answered line (sans I/O).

The classic energy-and-cadence method (as Asterisk's app_amd): 20 ms frames
of 8 kHz audio are voiced or silent by their energy against an adaptive noise
floor, and the cadence decides.

* A person says a short greeting ("Hello?", at most ``human_greeting_max_s``)
  and then waits: ``after_greeting_silence_s`` of silence after it -> human.
* A machine plays a long greeting: speech (gaps shorter than
  ``after_greeting_silence_s`` included) lasting ``machine_greeting_s`` -> machine.
* A beep (a pure tone held ``beep_min_s``) -> machine.
* Nobody speaks for ``initial_silence_s`` -> ``initial_silence_verdict``.
* Anything else by ``max_decision_s`` -> human.

Unsure means human on purpose: a person taken for a machine is hung up on,
which regulators count as an abandoned call -- Ofcom, "Persistent misuse: a
statement of Ofcom's general policy" (20 Dec 2016, Annex 3) makes a reasoned
estimate of AMD false positives part of the abandoned call rate (see
``false_positive_rate``), and under 47 CFR 64.1200(a)(7)(i) the call must reach
an agent (or the safe-harbour message) within 2 s of the called person's
*completed greeting*, which is why detection must end quickly.
"""

from __future__ import annotations

import math
import sys
from array import array
from dataclasses import dataclass
from typing import Literal, NamedTuple

from ivr.media.g711 import DECODERS

RATE = 8000
FRAME_SAMPLES = 160  # 20 ms at 8 kHz
FRAME_S = FRAME_SAMPLES / RATE
FULL_SCALE_POWER = 32768.0**2
QUIET_DBFS = -90.0  # digital silence is clamped here
FLOOR_START_DBFS = -70.0  # a quiet line: speech may start with the very first frame
FLOOR_RISE_DB_PER_FRAME = 0.06  # 3 dB/s: the floor follows a noisier line, not speech
BEEP_BAND_HZ = (300.0, 3000.0)  # answering-machine beeps: typically 400-2000 Hz
BEEP_PURITY = 0.8  # share of a frame's energy at its one frequency (speech: far less)
BEEP_DRIFT_HZ = 25.0  # a beep holds its pitch

Kind = Literal["human", "machine"]


class AmdSettingsError(ValueError):
    """A detector threshold that cannot be used; one line."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AmdSettings:
    """The detector's thresholds (seconds unless named otherwise)."""

    max_decision_s: float = 3.5  # a verdict by then: human when unsure
    initial_silence_s: float = 2.5
    initial_silence_verdict: Kind = "human"  # a silent line may be a person listening
    human_greeting_max_s: float = 1.5
    after_greeting_silence_s: float = 0.8
    machine_greeting_s: float = 2.5
    min_word_s: float = 0.1  # shorter voiced blips (clicks, pops) are not speech
    speech_margin_db: float = 12.0  # voiced: this far above the noise floor ...
    min_speech_dbfs: float = -45.0  # ... and at least this loud
    beep_min_s: float = 0.12
    # Ofcom (2016 statement, Annex 3): a reasoned estimate of the share of machine
    # releases that were people counts as abandoned calls in the UK. Measure it
    # (sample released calls); the vendor's figure is not accepted. 0.1 until then.
    false_positive_rate: float = 0.1

    def __post_init__(self) -> None:
        checks = (
            (0 < self.max_decision_s <= 10, "max_decision_s must be in (0, 10]"),
            (self.initial_silence_s > 0, "initial_silence_s must be > 0"),
            (
                self.initial_silence_verdict in ("human", "machine"),
                "initial_silence_verdict must be human or machine",
            ),
            (
                0 < self.human_greeting_max_s < self.machine_greeting_s,
                "need 0 < human_greeting_max_s < machine_greeting_s",
            ),
            (self.after_greeting_silence_s > 0, "after_greeting_silence_s must be > 0"),
            (FRAME_S <= self.min_word_s < 1, "min_word_s must be in [0.02, 1)"),
            (self.speech_margin_db > 0, "speech_margin_db must be > 0"),
            (QUIET_DBFS < self.min_speech_dbfs < 0, "min_speech_dbfs must be in (-90, 0)"),
            (self.beep_min_s >= 3 * FRAME_S, "beep_min_s must be >= 0.06"),
            (0 <= self.false_positive_rate < 1, "false_positive_rate must be in [0, 1)"),
        )
        for ok, problem in checks:
            if not ok:
                raise AmdSettingsError(f"amd: {problem}")


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: Kind
    reason: str  # short_greeting, long_greeting, beep, initial_silence, unsure, timeout
    after_s: float  # audio analysed when it was reached

    @property
    def machine(self) -> bool:
        return self.kind == "machine"


def frames(seconds: float) -> int:
    return max(1, round(seconds / FRAME_S))


class _FrameLimits(NamedTuple):
    """The thresholds in 20 ms frames."""

    most: int
    initial_silence: int
    human_max: int
    after_silence: int
    machine_min: int
    min_word: int
    beep: int


class AmdAnalyser:
    """Feed it the answered line's audio; it returns a `Verdict` once it has one."""

    def __init__(self, settings: AmdSettings | None = None) -> None:
        self.settings = s = settings or AmdSettings()
        self._limits = _FrameLimits(
            most=frames(s.max_decision_s),
            initial_silence=frames(s.initial_silence_s),
            human_max=frames(s.human_greeting_max_s),
            after_silence=frames(s.after_greeting_silence_s),
            machine_min=frames(s.machine_greeting_s),
            min_word=frames(s.min_word_s),
            beep=frames(s.beep_min_s),
        )
        self._pending = bytearray()  # PCM not yet a whole frame
        self.frames = 0
        self.floor_db = FLOOR_START_DBFS
        self.greeting_start: int | None = None  # first frame of the first word
        self.last_voiced = -1  # last frame inside a word
        self._voiced_run = 0
        self._silence_run = 0  # frames since the last word frame
        self._tone_run, self._tone_hz = 0, 0.0
        self.verdict: Verdict | None = None

    # -- input ---------------------------------------------------------------------------

    def feed_g711(self, payload: bytes, payload_type: int) -> Verdict | None:
        """An RTP payload: PCMU (0) or PCMA (8); other payload types are ignored."""
        decode = DECODERS.get(payload_type)
        return self.feed_pcm(decode(payload)) if decode is not None else self.verdict

    def feed_pcm(self, pcm: bytes) -> Verdict | None:
        """16-bit little-endian 8 kHz mono PCM, any length."""
        self._pending += pcm
        size = 2 * FRAME_SAMPLES
        while self.verdict is None and len(self._pending) >= size:
            samples = array("h", bytes(self._pending[:size]))
            del self._pending[:size]
            if sys.byteorder == "big":
                samples.byteswap()
            self.verdict = self._frame(samples)
        return self.verdict

    def expire(self) -> Verdict:
        """The time is up with too little audio (late or missing RTP): decide now."""
        if self.verdict is None:
            s = self.settings
            silent = self.greeting_start is None and s.initial_silence_s <= s.max_decision_s
            if silent:
                self.verdict = self._decide(s.initial_silence_verdict, "initial_silence")
            else:
                self.verdict = self._decide("human", "timeout")
        return self.verdict

    # -- one frame -----------------------------------------------------------------------

    def _frame(self, samples: array[int]) -> Verdict | None:
        self.frames += 1
        power = sum(x * x for x in samples) / len(samples)
        energy = max(QUIET_DBFS, 10 * math.log10(power / FULL_SCALE_POWER + 1e-12))
        voiced = self._voiced(energy)
        if self._beep(tone_frequency(samples, power) if voiced else None):
            return self._decide("machine", "beep")
        self._cadence(voiced)
        return self._rules()

    def _voiced(self, energy: float) -> bool:
        """Above both the floor margin and the absolute minimum; then track the floor:
        down at once to a quieter frame, up slowly (speech barely moves it). A line
        noisier than ``min_speech_dbfs`` needs that raised: the floor is too slow."""
        s, floor = self.settings, self.floor_db
        voiced = energy >= max(s.min_speech_dbfs, floor + s.speech_margin_db)
        self.floor_db = energy if energy < floor else floor + FLOOR_RISE_DB_PER_FRAME
        return voiced

    def _cadence(self, voiced: bool) -> None:
        self._silence_run += 1
        if not voiced:
            self._voiced_run = 0
            return
        self._voiced_run += 1
        if self._voiced_run >= self._limits.min_word:  # a word, not a click
            if self.greeting_start is None:
                self.greeting_start = self.frames - self._voiced_run + 1
            self.last_voiced = self.frames
            self._silence_run = 0

    def _rules(self) -> Verdict | None:
        limits, start = self._limits, self.greeting_start
        if start is None:
            if self.frames >= limits.initial_silence:
                return self._decide(self.settings.initial_silence_verdict, "initial_silence")
        else:
            greeting = self.last_voiced - start + 1
            if greeting >= limits.machine_min:
                return self._decide("machine", "long_greeting")
            if self._silence_run >= limits.after_silence:  # the greeting is over
                short = greeting <= limits.human_max
                return self._decide("human", "short_greeting" if short else "unsure")
        if self.frames >= limits.most:
            return self._decide("human", "timeout")
        return None

    def _beep(self, hz: float | None) -> bool:
        """A run of consecutive frames that are each one pure tone at the run's pitch
        (``hz``: this frame's tone, None when it is none or silent)."""
        if hz is None:
            self._tone_run = 0
        elif self._tone_run and abs(hz - self._tone_hz) <= BEEP_DRIFT_HZ:
            self._tone_run += 1
        else:  # a new tone starts the run again
            self._tone_run, self._tone_hz = 1, hz
        return self._tone_run >= self._limits.beep

    def _decide(self, kind: Kind, reason: str) -> Verdict:
        return Verdict(kind, reason, round(self.frames * FRAME_S, 3))


def tone_frequency(samples: array[int], power: float) -> float | None:
    """The frequency of a frame that is (nearly) one sine in the beep band, else None.

    The pitch comes from the zero crossings (interpolated), the purity from a
    Goertzel filter at that pitch: a sine puts all its energy there, a voice
    spreads it over its harmonics."""
    crossings: list[float] = []
    previous = samples[0]
    for index in range(1, len(samples)):
        current = samples[index]
        if (previous < 0) != (current < 0) and current != previous:
            crossings.append(index - 1 + previous / (previous - current))
        previous = current
    if len(crossings) < 3 or power <= 0:
        return None
    hz = (len(crossings) - 1) * RATE / (2 * (crossings[-1] - crossings[0]))
    low, high = BEEP_BAND_HZ
    if not low <= hz <= high:
        return None
    coefficient = 2 * math.cos(2 * math.pi * hz / RATE)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coefficient * s1 - s2, s1
    at_hz = s1 * s1 + s2 * s2 - coefficient * s1 * s2
    purity = 2 * at_hz / (len(samples) * len(samples) * power)
    return hz if purity >= BEEP_PURITY else None
