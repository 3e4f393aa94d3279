"""The ``energy`` answering-machine detector: `AmdAnalyser` on the answered line's RTP.

The endpoint's received audio reaches a recorder hook (``MediaEndpoint.recorder``),
so the detector listens by standing in as that recorder until it has a verdict
(handing every packet on to a real recorder, if one was set). The wait is
bounded by ``max_decision_s`` of wall time whatever the RTP does: late, lost
or absent media ends in the analyser's ``expire`` verdict (human unless the
initial-silence rule says otherwise).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily

from ivr.media.endpoint import MediaEndpoint
from ivr.media.recorder import Direction, Recorder
from ivr.media.rtp import RtpPacket
from ringway.dialer_live.amd import AmdAnalyser, AmdSettings, Verdict


class _Tap(Recorder):
    """Feeds received packets to the analyser; resolves ``decided`` with the verdict."""

    def __init__(
        self, analyser: AmdAnalyser, decided: asyncio.Future[Verdict], inner: Recorder | None
    ) -> None:
        super().__init__()
        self.analyser, self.decided, self.inner = analyser, decided, inner

    def feed_packet(self, direction: Direction, packet: RtpPacket) -> None:
        if self.inner is not None:
            self.inner.feed_packet(direction, packet)
        if direction != "in" or self.decided.done():
            return
        verdict = self.analyser.feed_g711(packet.payload, packet.payload_type)
        if verdict is not None:
            self.decided.set_result(verdict)


class EnergyDetector:
    """`MachineDetector` by frame energy and greeting cadence; counts its verdicts."""

    def __init__(self, settings: AmdSettings | None = None) -> None:
        self.settings = settings or AmdSettings()
        self.verdicts: Counter[str] = Counter()  # "machine:long_greeting", ...

    async def is_machine(self, endpoint: MediaEndpoint) -> bool:
        return (await self.listen(endpoint)).machine

    async def listen(self, endpoint: MediaEndpoint) -> Verdict:
        """Listen until a verdict or ``max_decision_s``; the endpoint is left as it was."""
        analyser = AmdAnalyser(self.settings)
        decided: asyncio.Future[Verdict] = asyncio.get_running_loop().create_future()
        previous = endpoint.recorder
        endpoint.recorder = _Tap(analyser, decided, previous)
        try:
            verdict = await asyncio.wait_for(decided, self.settings.max_decision_s)
        except TimeoutError:
            verdict = analyser.expire()
        finally:
            endpoint.recorder = previous
        self.verdicts[f"{verdict.kind}:{verdict.reason}"] += 1
        return verdict


class VerdictCollector:
    """The detector's verdict counts in /metrics: ``ringway_dialer_amd_verdicts_total``
    by kind (machine / human) and reason (long_greeting, beep, short_greeting, ...), so
    operators can watch the share of releases — Ofcom's false-positive estimate is
    sampled from those."""

    def __init__(self, detector: EnergyDetector) -> None:
        self.detector = detector

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "ringway_dialer_amd_verdicts",
            "Answering-machine detector verdicts by kind and reason",
            labels=["kind", "reason"],
        )
        for key, count in sorted(self.detector.verdicts.items()):
            kind, _, reason = key.partition(":")
            family.add_metric([kind, reason], count)
        yield family
