"""The live dialer's service settings: where the trunk is and how long lines ring."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from dialer.pacing import ABANDON_GRACE_SECONDS, MIN_RING_SECONDS
from ringway.dialer_live.amd import AmdSettings

TRUNK_ENV = "RINGWAY_DIALER_TRUNK"  # host:port of the carrier: enables the dialer
DETECTOR_ENV = "RINGWAY_DIALER_DETECTOR"  # none | energy
AMD_ENV = "RINGWAY_DIALER_AMD"  # AmdSettings fields, e.g. "max_decision_s=3,beep_min_s=0.2"


class DialerSettingsError(ValueError):
    """A dialer setting that cannot be used; one line."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DialerSettings:
    """``trunk``: the carrier's SIP URI host part, e.g. ``"192.0.2.10:5060"``; the
    Request-URI is ``sip:<E.164>@<trunk>``. ``ring_timeout_s``: at least 15 s
    (47 CFR 64.1200(a)(6)); only a test harness may shorten it, and must say so
    with ``allow_short_ring``. ``detector``: ``none`` or ``energy`` (answering-machine
    detection with the thresholds in ``amd``)."""

    trunk: str
    ring_timeout_s: float = 25.0
    # 47 CFR 64.1200(a)(7)(i): the prompt must start within 2 s of the answer, so the
    # agent gets 1.5 s and the withdrawal and first prompt packet fit in the rest
    grace_s: float = 1.5
    detector: str = "none"
    reevaluate_s: float = 0.5
    allow_short_ring: bool = False
    max_lines_per_tick: int = 20
    amd: AmdSettings = field(default_factory=AmdSettings)

    def __post_init__(self) -> None:
        if self.ring_timeout_s < MIN_RING_SECONDS and not self.allow_short_ring:
            raise DialerSettingsError(
                f"ring_timeout_s {self.ring_timeout_s:g} is below {MIN_RING_SECONDS:g} s "
                "(47 CFR 64.1200(a)(6): ring at least 15 s)"
            )
        if not 0 < self.grace_s <= ABANDON_GRACE_SECONDS:
            raise DialerSettingsError(f"grace_s must be in (0, {ABANDON_GRACE_SECONDS:g}] s")
        if self.reevaluate_s <= 0 or self.max_lines_per_tick < 1:
            raise DialerSettingsError("reevaluate_s must be > 0, max_lines_per_tick >= 1")
        if not self.trunk or "@" in self.trunk or self.trunk.startswith("sip:"):
            raise DialerSettingsError(f"trunk {self.trunk!r}: give host:port, e.g. 192.0.2.10:5060")

    @property
    def amd_false_positive_rate(self) -> float:
        """The share of machine releases taken to be people (Ofcom's reasoned
        estimate, counted as abandoned in the UK); 0 when no detector runs."""
        return 0.0 if self.detector == "none" else self.amd.false_positive_rate

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DialerSettings:
        """``ringway serve``'s settings: the trunk, the detector and its thresholds."""
        return cls(
            trunk=env.get(TRUNK_ENV, ""),
            detector=env.get(DETECTOR_ENV, "none") or "none",
            amd=amd_from_text(env.get(AMD_ENV, "")),
        )


def amd_from_text(text: str) -> AmdSettings:
    """``"max_decision_s=3,initial_silence_verdict=machine"`` -> `AmdSettings`."""
    types = {f.name: f.type for f in fields(AmdSettings)}
    values: dict[str, str | float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, raw = item.partition("=")
        name = name.strip()
        if name not in types:
            known = ", ".join(types)
            raise DialerSettingsError(f"{AMD_ENV}: unknown {name!r} (known: {known})")
        try:
            values[name] = raw.strip() if name == "initial_silence_verdict" else float(raw)
        except ValueError:
            raise DialerSettingsError(f"{AMD_ENV}: {name} wants a number, got {raw!r}") from None
    return AmdSettings(**values)  # type: ignore[arg-type]  # names and types checked above
