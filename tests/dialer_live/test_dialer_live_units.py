"""The live dialer's small rules: SIP status → outcome, ring time floor, detector names."""

from __future__ import annotations

import asyncio

import pytest

from dialer.leads import Outcome
from ivr.media.endpoint import MediaEndpoint
from ringway.dialer_live import outcomes
from ringway.dialer_live.outcomes import detector, outcome_for_status, register_detector
from ringway.dialer_live.settings import DialerSettings, DialerSettingsError


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.ANSWERED),
        (486, Outcome.BUSY),
        (600, Outcome.BUSY),
        (480, Outcome.NO_ANSWER),
        (408, Outcome.NO_ANSWER),
        (404, Outcome.FAILED),
        (503, Outcome.FAILED),
        (487, Outcome.FAILED),  # cancelled by us for another reason than the ring time
        (603, Outcome.FAILED),
    ],
)
def test_sip_status_maps_to_outcome(status: int, outcome: Outcome) -> None:
    assert outcome_for_status(status) is outcome


def test_ring_time_is_at_least_fifteen_seconds_for_live_campaigns() -> None:
    assert DialerSettings(trunk="192.0.2.10:5060").ring_timeout_s >= 15
    with pytest.raises(DialerSettingsError, match=r"47 CFR 64\.1200\(a\)\(6\)"):
        DialerSettings(trunk="192.0.2.10:5060", ring_timeout_s=14.9)
    short = DialerSettings(trunk="192.0.2.10:5060", ring_timeout_s=2, allow_short_ring=True)
    assert short.ring_timeout_s == 2


@pytest.mark.parametrize(
    "bad",
    [
        {"trunk": "sip:carrier@192.0.2.10"},
        {"trunk": ""},
        {"trunk": "192.0.2.10:5060", "grace_s": 2.5},
        {"trunk": "192.0.2.10:5060", "reevaluate_s": 0},
    ],
)
def test_bad_settings_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(DialerSettingsError):
        DialerSettings(**bad)  # type: ignore[arg-type]


def test_detectors_are_chosen_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    class AlwaysMachine:
        async def is_machine(self, endpoint: MediaEndpoint) -> bool:
            return True

    monkeypatch.setattr(outcomes, "_DETECTORS", dict(outcomes._DETECTORS))  # no leak
    register_detector("always-machine", lambda settings: AlwaysMachine())
    endpoint = MediaEndpoint(dtmf_payload_type=None)
    assert asyncio.run(detector("none").is_machine(endpoint)) is False
    assert asyncio.run(detector("always-machine").is_machine(endpoint)) is True
    with pytest.raises(ValueError, match="unknown machine detector 'beep'"):
        detector("beep")
